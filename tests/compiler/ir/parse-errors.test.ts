/**
 * Texts that must not parse, each with where the error is and what it says (in the manner of Halide's
 * test/error). Every error is one IrError whose message is `source:line:col: message`, the source line
 * and a caret under the column.
 */
import { IrError, type IrErrorCode, IrParseError, parseKernel } from '../../../compiler/ir/index.js';

const ARGS = '%x: in global<f32>[N], %y: out global<f32>[N]';

/** A kernel around `body` (whose lines start at line 2). */
const kernel = (body: string, args = ARGS, header = ' grid(N)'): string => `kernel @k(${args})${header} {\n${body}\n}\n`;

const PID = '  %0 = program_id() {axis = 0} : i32';

interface Case {
  readonly name: string;
  readonly text: string;
  /** The line, and the column or the first piece of that line the error points at ('$' for its end). */
  readonly at: readonly [number, number | string];
  readonly says: string;
  /** The IrError code, 'parse' unless given (a list: any of them). */
  readonly code?: IrErrorCode | readonly IrErrorCode[];
}

const CASES: readonly Case[] = [
  // Names and opcodes
  { name: 'an unknown value', text: kernel(`${PID}\n  %1 = add(%0, %7) : i32`), at: [3, '%7'], says: 'unknown value %7' },
  { name: 'a value used before its definition', text: kernel(`  %1 = add(%2, %2) : i32\n  %2 = program_id() {axis = 0} : i32`), at: [2, '%2'], says: 'unknown value %2' },
  { name: 'an unknown opcode', text: kernel('  %0 = frobnicate() {axis = 0} : i32'), at: [2, 'frobnicate'], says: "unknown opcode 'frobnicate'" },
  { name: 'a value defined twice', text: kernel(`${PID}\n  %0 = program_id() {axis = 1} : i32`), at: [3, '%0'], says: '%0 is defined twice (first at 2:3)' },
  { name: 'an argument name reused for a result', text: kernel('  %x = program_id() {axis = 0} : i32'), at: [2, '%x'], says: '%x is defined twice (first at 1:11)' },
  {
    name: 'a value used outside its loop',
    text: kernel(`${PID}\n  %1 = for(%0, %0, %0, %0) {\n  ^(%2: i32, %3: i32):\n    %4 = add(%3, %2) : i32\n    yield(%4)\n  } : i32\n  %5 = add(%4, %1) : i32`),
    at: [8, '%4'],
    says: '%4 is used outside the loop or branch that defines it',
  },
  {
    name: 'a loop index used after the loop',
    text: kernel(`${PID}\n  for(%0, %0, %0) {\n  ^(%2: i32):\n    yield()\n  }\n  %5 = add(%2, %2) : i32`),
    at: [7, '%2'],
    says: '%2 is used outside the loop',
  },

  // Dtypes and types
  { name: 'a bad dtype in an argument', text: kernel('', '%x: in global<f33>[N]'), at: [1, 'f33'], says: "unknown dtype 'f33'", code: 'dtype' },
  { name: 'a bad small float', text: kernel('', '%x: in global<f8e4m4>[N]'), at: [1, 'f8e4m4'], says: "bad small float 'f8e4m4'", code: 'dtype' },
  { name: 'a bad dtype in a result type', text: kernel('  %0 = program_id() {axis = 0} : i33'), at: [2, 'i33'], says: "unknown dtype 'i33'", code: 'dtype' },
  { name: 'a bad dtype attribute', text: kernel('  %0 = const() {value = 1, dtype = f99} : f32'), at: [2, 'const'], says: "unknown dtype 'f99'", code: 'dtype' },
  {
    name: 'adding f32 and i32',
    text: kernel('  %0 = const() {value = 1, dtype = f32} : f32\n  %1 = const() {value = 2, dtype = i32} : i32\n  %2 = add(%0, %1) : f32'),
    at: [4, 'add'],
    says: 'add(f32, i32): operands must have the same dtype',
    code: 'type',
  },
  { name: 'a wrong result type', text: kernel('  %0 = arange() {start = 0, end = 4} : tile<f32>[4]'), at: [2, 'tile'], says: 'arange gives tile<i32>[4], but the text says tile<f32>[4]' },
  { name: 'a wrong result shape', text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[5]'), at: [2, 'tile'], says: 'arange gives tile<i32>[4], but the text says tile<i32>[5]' },
  { name: 'too many result types', text: kernel('  %0 = program_id() {axis = 0} : i32, i32'), at: [2, 'i32'], says: 'program_id gives 1 result, but 2 types written' },
  { name: 'a name for an op without results', text: kernel('  %0 = barrier()'), at: [2, '%0'], says: 'barrier gives 0 results, but 1 name is given' },
  { name: 'a missing attribute', text: kernel('  %0 = program_id() : i32'), at: [2, 'program_id'], says: 'attribute axis must be an integer', code: 'type' },
  {
    name: 'a store into an input tensor',
    text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[4]\n  %1 = load(%x, %0) : tile<f32>[4]\n  store(%x, %0, %1)'),
    at: [4, 'store'],
    says: 'cannot store into an input tensor',
    code: ['type', 'access'], // errors.ts documents 'access' for this; the type rule raises 'type'
  },
  { name: 'a global type outside the arguments', text: kernel('  %0 = program_id() {axis = 0} : global<i32>[4]'), at: [2, 'global'], says: 'global tensors appear only as kernel arguments' },
  { name: 'a tensor argument without access', text: kernel('', '%x: global<f32>[N]'), at: [1, 'global'], says: 'tensor argument %x needs an access: in, out or inout' },
  { name: 'an access on a scalar argument', text: kernel('', '%n: in i32'), at: [1, 'in'], says: 'only global tensors take an access (in)' },
  { name: 'a fractional extent', text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[4.5]'), at: [2, '4.5'], says: 'an extent must be an integer' },
  { name: 'a symbolic extent in a tile', text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[N]'), at: [2, 'N]'], says: 'the extents of a tile are integers' },

  // Layouts
  {
    name: 'a layout that does not fit its tile',
    text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[4] #reg([8], [8], [0], [])'),
    at: [2, '#reg'],
    says: 'arange: layout reg([8], [8], [0], []) does not fit tile<i32>[4]',
    code: 'layout',
  },
  { name: 'an invalid register layout', text: kernel('  %0 = arange() {start = 0, end = 4} : tile<i32>[4] #reg([4], [3], [0], [])'), at: [2, '#reg'], says: 'modes do not multiply to extent 4', code: 'layout' },
  { name: 'bad CuTe text', text: kernel('  %0 = alloc_shared() {dtype = f16, shape = [8, 8]} : shared<f16>[8, 8] #cute((8,8):(1,8):(2))'), at: [2, '#cute'], says: 'expected end of text', code: 'layout' },
  { name: 'a layout on a tensor', text: kernel('', '%x: in global<f32>[8] #cute(8:1)'), at: [1, '#cute'], says: 'a global tensor has no layout' },

  // Regions
  { name: 'a region without yield', text: kernel(`${PID}\n  for(%0, %0, %0) {\n  ^(%1: i32):\n    %2 = add(%1, %1) : i32\n  }`), at: [6, '}'], says: 'the for region must end with yield(...)' },
  { name: 'yield in the kernel body', text: kernel(`${PID}\n  yield(%0)`), at: [3, 'yield'], says: 'yield may only end the region of a for or an if' },
  { name: 'yield before the end of a region', text: kernel(`${PID}\n  for(%0, %0, %0) {\n  ^(%1: i32):\n    yield()\n    yield()\n  }`), at: [5, 'yield'], says: 'yield may only end the region' },
  { name: 'a for without its region header', text: kernel(`${PID}\n  for(%0, %0, %0) {\n    yield()\n  }`), at: [3, '{'], says: 'a for region starts with ^(%i: i32, carried values...):' },
  {
    name: 'too many region arguments',
    text: kernel(`${PID}\n  for(%0, %0, %0) {\n  ^(%1: i32, %2: i32):\n    yield()\n  }`),
    at: [4, '%1'],
    says: 'the for region takes the loop index and 0 carried values, got 2 arguments',
  },
  { name: 'a wrongly typed loop index', text: kernel(`${PID}\n  for(%0, %0, %0) {\n  ^(%1: f32):\n    yield()\n  }`), at: [4, 'f32'], says: '%1 has type i32, but the text says f32' },
  { name: 'too few loop bounds', text: kernel(`${PID}\n  for(%0, %0) {\n  ^(%1: i32):\n    yield()\n  }`), at: [3, 'for'], says: 'for takes lower, upper and step bounds' },
  {
    name: 'a loop yielding the wrong type',
    text: kernel(`${PID}\n  %1 = const() {value = 0, dtype = f32} : f32\n  %2 = for(%0, %0, %0, %1) {\n  ^(%3: i32, %4: f32):\n    yield(%3)\n  } : f32`),
    at: [6, 'yield'],
    says: 'yields (i32), which must match the carried values (f32)',
  },
  { name: 'an if without else', text: kernel(`${PID}\n  %1 = lt(%0, %0) : bool\n  if(%1) {\n    yield()\n  }`), at: [6, '}'], says: 'if needs a then region and an else region' },
  {
    name: 'branches yielding different types',
    text: kernel(`${PID}\n  %1 = lt(%0, %0) : bool\n  %2 = if(%1) {\n    yield(%0)\n  } else {\n    yield(%1)\n  } : i32`),
    at: [7, 'yield'],
    says: 'yields (bool), which must match what the then region yields (i32)',
  },
  { name: 'an if on an i32', text: kernel(`${PID}\n  if(%0) {\n    yield()\n  } else {\n    yield()\n  }`), at: [3, 'if'], says: 'if: takes one bool scalar condition', code: 'type' },
  { name: 'a region on a plain op', text: kernel(`${PID}\n  %1 = add(%0, %0) {\n    yield()\n  } : i32`), at: [3, '{'], says: 'add takes no regions' },
  { name: 'attributes on a for', text: kernel(`${PID}\n  for(%0, %0, %0) {unroll = 4} {\n  ^(%1: i32):\n    yield()\n  }`), at: [3, 'unroll'], says: 'for takes no attributes' },

  // Header
  { name: 'an unknown grid operation', text: kernel('', ARGS, ' grid(cdv(N, 4))'), at: [1, 'cdv'], says: "unknown grid operation 'cdv' (expected cdiv, add, sub, mul, min or max)" },
  { name: 'a fractional grid extent', text: kernel('', ARGS, ' grid(2.5)'), at: [1, '2.5'], says: 'a grid extent must be an integer' },
  { name: 'a grid on no extent', text: kernel('', ARGS, ' grid(cdiv(Q, 4))'), at: [1, 'Q, 4'], says: "the grid names Q, which is no tensor's extent" },
  { name: 'a grid dividing by 0', text: kernel('', ARGS, ' grid(cdiv(N, 0))'), at: [1, '@k'], says: 'grid extent cdiv(N, 0) divides by 0', code: 'structure' },
  { name: 'a requirement on no extent', text: kernel('', ARGS, ' grid(N) requires(N <= 4, M == 2)'), at: [1, 'M =='], says: "requirement M == 2 names M, which is no tensor's extent" },
  { name: 'a requirement on an extent nested in an operation', text: kernel('', ARGS, ' grid(N) requires(N <= mul(2, Q))'), at: [1, 'Q))'], says: "requirement N <= mul(2, Q) names Q, which is no tensor's extent" },
  { name: 'a fractional extent in a requirement', text: kernel('', ARGS, ' grid(N) requires(N <= 2.5)'), at: [1, '2.5'], says: "a requirement's extent must be an integer" },
  { name: 'a requirement that never holds', text: kernel('', ARGS, ' grid(N) requires(N <= 4, 8 <= 4)'), at: [1, '<= 4)'], says: 'kernel k: requirement 8 <= 4 never holds', code: 'type' },
  { name: 'a requirement that is not == or <=', text: kernel('', ARGS, ' grid(N) requires(N < 4)'), at: [1, '< 4'], says: "expected '==' or '<=' but found '<'" },
  { name: 'a parameter given twice', text: kernel('', ARGS, ' params(A = 1, A = 2)'), at: [1, 'A = 2'], says: 'parameter A is given twice' },
  { name: 'a parameter that is not a number', text: kernel('', ARGS, ' params(A = big)'), at: [1, 'big'], says: "expected a number, found 'big'" },
  { name: 'an argument named by a number', text: kernel('', '%0: i32'), at: [1, '%0'], says: 'argument name "0" must be an identifier', code: 'structure' },

  // Attributes
  { name: 'an attribute given twice', text: kernel('  %0 = program_id() {axis = 0, axis = 1} : i32'), at: [2, 'axis = 1'], says: 'attribute axis is given twice' },
  { name: 'a minus before a word', text: kernel('  %0 = program_id() {axis = -zero} : i32'), at: [2, '-'], says: "expected a number after '-', found 'zero'" },

  // Syntax
  { name: 'a missing closing brace', text: `kernel @k(${ARGS}) {\n${PID}\n`, at: [2, '$'], says: "expected '}' but found the end of the text" },
  { name: 'a missing bracket at the end of a line', text: kernel(`  %0 = arange() {start = 0, end = 4} : tile<i32>[4\n  barrier()`), at: [2, '$'], says: "expected ']' but found 'barrier'" },
  { name: 'a missing comma', text: kernel(`${PID}\n  %1 = add(%0 %0) : i32`), at: [3, '%0)'], says: "expected ')' but found '%0'" },
  { name: 'a missing opcode', text: kernel('  %0 = = add()'), at: [2, '= add'], says: "expected an opcode but found '='" },
  { name: 'a stray character', text: kernel(`${PID} $`), at: [2, PID.length + 2], says: 'unexpected character "$"' },
  { name: 'an unterminated string', text: kernel('  barrier() {note = "abc}'), at: [2, '"'], says: 'unexpected character "\\""' },
  { name: 'not a kernel', text: 'hello', at: [1, 1], says: "expected 'kernel' but found 'hello'" },
  { name: 'an empty text', text: '', at: [1, 1], says: "expected 'kernel' but found the end of the text" },
  { name: 'a kernel name without @', text: 'kernel k() {}', at: [1, 'k('], says: "expected a kernel name (@name) but found 'k'" },
  { name: 'text after the kernel', text: 'kernel @k() {\n}\n}', at: [3, 1], says: "unexpected '}' after the end of the kernel" },
  { name: 'an empty grid', text: kernel('', ARGS, ' grid()'), at: [1, ') {'], says: "expected a number or an identifier but found ')'" },
];

/** The error parseKernel throws on `text`. */
function errorOf(text: string, source?: string): IrParseError {
  try {
    parseKernel(text, source);
  } catch (e) {
    if (e instanceof IrParseError) return e;
    throw new Error(`expected an IrParseError, got ${String(e)}`);
  }
  throw new Error(`expected an error, but this parsed:\n${text}`);
}

describe('malformed texts', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const e = errorOf(c.text);
    const lineText = c.text.split('\n')[c.at[0] - 1]!;
    const where = c.at[1];
    const column = typeof where === 'number' ? where : where === '$' ? lineText.length + 1 : lineText.indexOf(where) + 1;
    expect(column).toBeGreaterThan(0);
    expect(e).toBeInstanceOf(IrError);
    expect([c.code ?? 'parse'].flat()).toContain(e.code);
    expect(e.diagnostics).toHaveLength(1);
    const [header, shown, caret] = e.message.split('\n');
    expect(header).toMatch(new RegExp(`^<ir>:${c.at[0]}:${column}: `));
    expect(header).toContain(c.says);
    expect(shown).toBe(lineText);
    expect(caret).toBe(`${' '.repeat(column - 1)}^`);
  });
});

describe('error messages', () => {
  test('name the source given', () => {
    const e = errorOf(kernel('  %0 = frobnicate() : i32'), 'kernels/softmax.tir');
    expect(e.message).toMatch(/^kernels\/softmax\.tir:2:8: unknown opcode 'frobnicate'\n {2}%0 = frobnicate\(\) : i32\n {7}\^$/);
  });

  test('keep tabs in front of the caret so it lines up', () => {
    const e = errorOf(kernel('\t\t%0 = frobnicate() : i32'));
    expect(e.message.split('\n').slice(1)).toEqual(['\t\t%0 = frobnicate() : i32', '\t\t     ^']);
  });

  test('report several syntax errors together, in order', () => {
    const text = kernel(
      [
        '  %0 = program_id() {axis = 0 : i32', // '}' missing
        '  %1 = arange() {start = 0, end = 4} : tile<i32>[4]',
        '  %2 = add(%1, %1 : tile<i32>[4]', // ')' missing
        '  %3 = add(%2, %2) : tile<i32[4]', // '>' missing
        '  store(%y, %1, %3) $', // a stray character
      ].join('\n'),
    );
    const e = errorOf(text);
    expect(e.code).toBe('parse');
    expect(e.diagnostics.map((d) => [d.line, d.column])).toEqual([
      [2, 31],
      [4, 19],
      [5, 30],
      [6, 21],
    ]);
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      "expected '}' but found ':'",
      "expected ')' but found ':'",
      "expected '>' but found '['",
      'unexpected character "$"',
    ]);
    const headers = e.message.split('\n').filter((l) => l.startsWith('<ir>:'));
    expect(headers).toEqual(e.diagnostics.map((d) => `<ir>:${d.line}:${d.column}: ${d.message}`));
    expect(e.message.split('\n')).toHaveLength(3 * 4);
  });

  test('errors after a syntax error in a region are still found', () => {
    const text = kernel(
      ['  %0 = program_id() {axis = 0} : i32', '  for(%0, %0, %0) {', '  ^(%1: i32)', '    yield()', '  }', '  %2 = add(%0, %0 : i32', '  barrier() {a = }'].join('\n'),
    );
    expect(errorOf(text).diagnostics.map((d) => d.line)).toEqual([4, 7, 8]);
  });

  test('regions nested thousands deep give an IrError at the bracket too deep, not a stack overflow', () => {
    const depth = 20000;
    const text = `kernel @k() {\n  %c = const() {value = 1, dtype = bool} : bool\n${'if(%c) {\n'.repeat(depth)}${'yield()\n} else {\nyield()\n}\n'.repeat(depth)}}\n`;
    // Line 2 + k holds the k-th if: its '(' is bracket 1 + k.
    expect(errorOf(text).message).toMatch(/^<ir>:130:3: brackets nest more than 128 deep/);
    expect(parseKernel(kernel(PID)).body.ops).toHaveLength(1);
  });

  test('only the first semantic error is reported: later ones may be its consequences', () => {
    const e = errorOf(kernel('  %0 = frobnicate() : i32\n  %1 = add(%0, %9) : i32'));
    expect(e.diagnostics).toHaveLength(1);
  });
});
