/**
 * The error of the IR layer: a kernel that is ill-typed, malformed, or cannot be parsed. `code` says
 * which kind, for callers and tests; the message names the op, its operands and what was expected.
 */
export type IrErrorCode =
  | 'dtype' //      an unknown dtype name, or a dtype an op does not accept
  | 'type' //       operands whose shapes, dtypes or spaces do not fit the op
  | 'structure' //  malformed IR: a value used before it is defined or outside its region, a missing yield
  | 'access' //     a store into an input tensor or a load from an output tensor
  | 'layout' //     a layout that does not fit its tile
  | 'parse' //      text that is not Tile IR
  | 'range'; //     a value outside what its dtype can hold (e.g. packing)

export class IrError extends Error {
  readonly code: IrErrorCode;

  constructor(code: IrErrorCode, message: string) {
    super(message);
    this.name = 'IrError';
    this.code = code;
  }
}
