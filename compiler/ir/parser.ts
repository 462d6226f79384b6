/**
 * Reading the text form of Tile IR (what printer.ts writes) back into a Kernel.
 *
 * Two steps. A chevrotain lexer and parser turn the text into syntax (tokens arranged by construct,
 * nothing interpreted), recovering from errors so that every syntax error of a text is reported at
 * once. Then the syntax is built into a kernel through KernelBuilder, so every op is typed by its
 * rule exactly as when the DSL builds it; the result types written after an op must be the ones the
 * rule gives (a layout written there is attached to the result).
 *
 *   kernel   := 'kernel' @name '(' [argument {',' argument}] ')' [grid] [requires] [params] '{' {op} '}'
 *   argument := %name ':' [in | out | inout] type
 *   grid     := 'grid' '(' gridExpr {',' gridExpr} ')'      gridExpr := int | SYMBOL | op '(' gridExpr ',' gridExpr ')'
 *   requires := 'requires' '(' gridExpr ('==' | '<=') gridExpr {',' ...} ')'
 *   params   := 'params' '(' NAME '=' number {',' ...} ')'
 *   op       := [%r {',' %r} '='] opcode '(' [%a {',' %a}] ')' ['{' key '=' attr {',' ...} '}']
 *               [region ['else' region]] [':' type {',' type}]
 *   region   := '{' ['^' '(' %v ':' type {',' ...} ')' ':'] {op} '}'
 *   type     := (global | tile | shared) '<' dtype '>' '[' dims ']' [layout] | dtype [layout]
 *   layout   := '#reg(' list ',' list ',' list ',' list ')' | '#cute(' CuTe layout text ')'
 *   attr     := number | true | false | identifier | "json string" | '[' [number {',' number}] ']'
 *   number   := 12 | -0.5 | 1e-5 | -0.0 | inf | -inf | nan
 * Line comments start with `//`. The result types after an op may be left out.
 *
 * Errors: one IrParseError (an IrError) listing every problem found, each as
 * `source:line:col: message`, the source line and a caret under the column. Syntax errors, unknown
 * names and opcodes, and result types that differ from the op's have code 'parse'; an error raised by
 * the IR itself keeps its code ('type' for an ill-typed op, 'dtype' for an unknown dtype, 'structure',
 * 'access'; 'layout' for a layout that does not parse or fit).
 */
import { EOF, EmbeddedActionsParser, type IParserErrorMessageProvider, type IToken, Lexer, type TokenType, createToken } from 'chevrotain';
import { type ComposedLayout, type Layout, LayoutError, parseComposedLayout, parseLayout, registerLayout } from '../layout/index.js';
import { KernelBuilder } from './builder.js';
import { dtype } from './dtype.js';
import { IrError, type IrErrorCode, MAX_NESTING } from './errors.js';
import { SourceText } from './source-text.js';
import { type AttrValue, type GridExpr, type GridOp, type Kernel, type RequirementRel, type Value, formatRequirement } from './ir.js';
import { type Opcode, isOpcode } from './opcodes.js';
import { inferResultTypes } from './type-rules.js';
import { type Access, type Dim, type TileType, type Type, formatType, tensorType, tileType, typeEquals } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Tokens

const Identifier = createToken({ name: 'Identifier', label: 'an identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
/** Keywords are identifiers too (categories), so `grid` or `tile` may still name a symbol or an attribute. */
const keyword = (word: string): TokenType =>
  createToken({ name: `Keyword_${word}`, label: `'${word}'`, pattern: new RegExp(word), longer_alt: Identifier, categories: [Identifier] });
const KernelKw = keyword('kernel');
const GridKw = keyword('grid');
const RequiresKw = keyword('requires');
const ParamsKw = keyword('params');
const ElseKw = keyword('else');
const InoutKw = keyword('inout'); // before `in`, which is its prefix
const InKw = keyword('in');
const OutKw = keyword('out');
const GlobalKw = keyword('global');
const TileKw = keyword('tile');
const SharedKw = keyword('shared');

const punct = (name: string, text: string): TokenType => createToken({ name, label: `'${text}'`, pattern: text });
const LParen = punct('LParen', '(');
const RParen = punct('RParen', ')');
const LCurly = punct('LCurly', '{');
const RCurly = punct('RCurly', '}');
const LSquare = punct('LSquare', '[');
const RSquare = punct('RSquare', ']');
const EqualEqual = punct('EqualEqual', '==');
const LessEqual = punct('LessEqual', '<=');
const Lt = punct('Lt', '<');
const Gt = punct('Gt', '>');
const Comma = punct('Comma', ',');
const Colon = punct('Colon', ':');
const Equals = punct('Equals', '=');
const Caret = punct('Caret', '^');
const Minus = punct('Minus', '-'); // only in -inf: numbers carry their own sign

const NumberTok = createToken({ name: 'Number', label: 'a number', pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
const StringTok = createToken({ name: 'String', label: 'a string', pattern: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/ });
const ValueName = createToken({ name: 'ValueName', label: 'a value name (%x)', pattern: /%[A-Za-z0-9_]+/ });
const KernelName = createToken({ name: 'KernelName', label: 'a kernel name (@name)', pattern: /@[A-Za-z_][A-Za-z0-9_]*/ });
const HashReg = createToken({ name: 'HashReg', label: "'#reg'", pattern: /#reg/ });
const HashCute = createToken({ name: 'HashCute', label: "'#cute'", pattern: /#cute/ });
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });
const Comment = createToken({ name: 'Comment', pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });

const ALL_TOKENS = [
  WhiteSpace, Comment, StringTok, NumberTok, Minus, ValueName, KernelName, HashReg, HashCute,
  LParen, RParen, LCurly, RCurly, LSquare, RSquare, EqualEqual, LessEqual, Lt, Gt, Comma, Colon, Equals, Caret,
  KernelKw, GridKw, RequiresKw, ParamsKw, ElseKw, InoutKw, InKw, OutKw, GlobalKw, TileKw, SharedKw, Identifier,
];

// ---------------------------------------------------------------------------------------------------
// Syntax: the tokens of each construct, uninterpreted (so recovering from errors never runs our code
// on half-built values).

interface KernelSyntax {
  readonly name: IToken;
  readonly args: readonly ArgSyntax[];
  readonly grid: readonly GridSyntax[];
  readonly requires: readonly RequirementSyntax[];
  readonly params: readonly ParamSyntax[];
  readonly body: readonly OpSyntax[];
}
interface RequirementSyntax {
  readonly left: GridSyntax;
  readonly rel: IToken;
  readonly right: GridSyntax;
}
interface ArgSyntax {
  readonly name: IToken;
  readonly access: IToken | undefined;
  readonly type: TypeSyntax;
}
interface ParamSyntax {
  readonly name: IToken;
  readonly value: LiteralSyntax;
}
type GridSyntax = { readonly leaf: IToken } | { readonly op: IToken; readonly args: readonly [GridSyntax, GridSyntax] };
/** A bare literal: a number token, `-` and an identifier (-inf), or an identifier (inf, true, sum...). */
interface LiteralSyntax {
  readonly minus: IToken | undefined;
  readonly token: IToken;
}
interface AttrSyntax {
  readonly key: IToken;
  readonly value: { readonly literal: LiteralSyntax } | { readonly string: IToken } | { readonly list: readonly LiteralSyntax[] };
}
interface OpSyntax {
  readonly results: readonly IToken[];
  readonly opcode: IToken;
  readonly operands: readonly IToken[];
  readonly attrs: readonly AttrSyntax[];
  readonly regions: readonly RegionSyntax[];
  readonly types: readonly TypeSyntax[];
}
interface RegionSyntax {
  readonly open: IToken;
  readonly args: readonly { readonly name: IToken; readonly type: TypeSyntax }[] | undefined;
  readonly ops: readonly OpSyntax[];
  readonly close: IToken;
}
interface TypeSyntax {
  /** global, tile or shared; for a scalar type, the dtype itself. */
  readonly head: IToken;
  readonly dtype: IToken;
  readonly shape: readonly IToken[];
  readonly layout: LayoutSyntax | undefined;
}
type LayoutSyntax =
  | { readonly at: IToken; readonly lists: readonly (readonly LiteralSyntax[])[] }
  | { readonly at: IToken; readonly open: IToken; readonly close: IToken };

// ---------------------------------------------------------------------------------------------------
// Grammar: one rule per construct.

const RULE_NAMES: Readonly<Record<string, string>> = {
  kernel: 'a kernel',
  argument: 'an argument',
  gridExpr: 'a grid extent',
  op: 'an op',
  attrValue: 'an attribute value',
  literal: 'a number or an identifier',
  type: 'a type',
  memoryType: 'a type',
  layoutAttr: 'a layout (#reg or #cute)',
  dim: 'an extent',
};

const found = (t: IToken | undefined): string => (t === undefined || t.tokenType === EOF ? 'the end of the text' : `'${t.image}'`);
const labelOf = (t: TokenType): string => t.LABEL ?? t.name;
const either = (labels: readonly string[]): string =>
  labels.length <= 1 ? (labels[0] ?? 'something else') : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;

const MESSAGES: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual, ruleName }) =>
    `expected ${ruleName === 'op' && expected === Identifier ? 'an opcode' : labelOf(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `unexpected ${found(firstRedundant)} after the end of the kernel`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = [...new Set(expectedPathsPerAlt.flatMap((paths) => paths.map((p) => (p[0] ? labelOf(p[0]) : ''))))].filter((l) => l);
    return `expected ${RULE_NAMES[ruleName] ?? either(firsts)} but found ${found(actual[0])}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    `expected ${either([...new Set(expectedIterationPaths.map((p) => (p[0] ? labelOf(p[0]) : '')))].filter((l) => l))} but found ${found(actual[0])}`,
};

class IrGrammar extends EmbeddedActionsParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  /** kernel @name(arguments) [grid(...)] [requires(...)] [params(...)] { ops } */
  readonly kernel = this.RULE('kernel', (): KernelSyntax => {
    this.CONSUME(KernelKw);
    const name = this.CONSUME(KernelName);
    const args: ArgSyntax[] = [];
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => args.push(this.SUBRULE(this.argument)) });
    this.CONSUME(RParen);
    const grid = this.OPTION(() => this.SUBRULE(this.gridClause)) ?? [];
    const requires = this.OPTION3(() => this.SUBRULE(this.requiresClause)) ?? [];
    const params = this.OPTION2(() => this.SUBRULE(this.paramsClause)) ?? [];
    this.CONSUME(LCurly);
    const body: OpSyntax[] = [];
    this.MANY(() => body.push(this.SUBRULE(this.op)));
    this.CONSUME(RCurly);
    return { name, args, grid, requires, params, body };
  });

  /** %name: [in|out|inout] type */
  private readonly argument = this.RULE('argument', (): ArgSyntax => {
    const name = this.CONSUME(ValueName);
    this.CONSUME(Colon);
    const access = this.OPTION(() =>
      this.OR([{ ALT: () => this.CONSUME(InKw) }, { ALT: () => this.CONSUME(OutKw) }, { ALT: () => this.CONSUME(InoutKw) }]),
    );
    const type = this.SUBRULE(this.type);
    return { name, access, type };
  });

  /** grid(expr, ...) */
  private readonly gridClause = this.RULE('gridClause', (): GridSyntax[] => {
    const grid: GridSyntax[] = [];
    this.CONSUME(GridKw);
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => grid.push(this.SUBRULE(this.gridExpr)) });
    this.CONSUME(RParen);
    return grid;
  });

  /** requires(expr == expr, expr <= expr, ...) */
  private readonly requiresClause = this.RULE('requiresClause', (): RequirementSyntax[] => {
    const requires: RequirementSyntax[] = [];
    this.CONSUME(RequiresKw);
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const left = this.SUBRULE1(this.gridExpr);
        const rel = this.OR([{ ALT: () => this.CONSUME(EqualEqual) }, { ALT: () => this.CONSUME(LessEqual) }]);
        const right = this.SUBRULE2(this.gridExpr);
        requires.push({ left, rel, right });
      },
    });
    this.CONSUME(RParen);
    return requires;
  });

  /** 128 | N | cdiv(expr, expr) */
  private readonly gridExpr = this.RULE('gridExpr', (): GridSyntax =>
    this.OR<GridSyntax>([
      { ALT: () => ({ leaf: this.CONSUME(NumberTok) }) },
      {
        ALT: () => {
          const name = this.CONSUME(Identifier);
          const call = this.OPTION(() => {
            this.CONSUME(LParen);
            const a = this.SUBRULE1(this.gridExpr);
            this.CONSUME(Comma);
            const b = this.SUBRULE2(this.gridExpr);
            this.CONSUME(RParen);
            return { op: name, args: [a, b] as const };
          });
          return call ?? { leaf: name };
        },
      },
    ]),
  );

  /** params(NAME = number, ...) */
  private readonly paramsClause = this.RULE('paramsClause', (): ParamSyntax[] => {
    const params: ParamSyntax[] = [];
    this.CONSUME(ParamsKw);
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const name = this.CONSUME(Identifier);
        this.CONSUME(Equals);
        params.push({ name, value: this.SUBRULE(this.literal) });
      },
    });
    this.CONSUME(RParen);
    return params;
  });

  /** [%r, ... =] opcode(%a, ...) [{attrs}] [region [else region]] [: types] */
  private readonly op = this.RULE('op', (): OpSyntax => {
    const results: IToken[] = [];
    this.OPTION(() => {
      this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => results.push(this.CONSUME(ValueName)) });
      this.CONSUME(Equals);
    });
    const opcode = this.CONSUME(Identifier);
    const operands: IToken[] = [];
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => operands.push(this.CONSUME2(ValueName)) });
    this.CONSUME(RParen);
    const attrs = this.OPTION2(() => this.SUBRULE(this.attributes)) ?? [];
    const regions: RegionSyntax[] = [];
    this.OPTION3(() => {
      regions.push(this.SUBRULE1(this.region));
      this.OPTION4(() => {
        this.CONSUME(ElseKw);
        regions.push(this.SUBRULE2(this.region));
      });
    });
    const types: TypeSyntax[] = [];
    this.OPTION5(() => {
      this.CONSUME(Colon);
      this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => types.push(this.SUBRULE(this.type)) });
    });
    return { results, opcode, operands, attrs, regions, types };
  });

  /** {key = value, ...} */
  private readonly attributes = this.RULE('attributes', (): AttrSyntax[] => {
    const attrs: AttrSyntax[] = [];
    this.CONSUME(LCurly);
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const key = this.CONSUME(Identifier);
        this.CONSUME(Equals);
        attrs.push({ key, value: this.SUBRULE(this.attrValue) });
      },
    });
    this.CONSUME(RCurly);
    return attrs;
  });

  /** number | identifier | "string" | [numbers] */
  private readonly attrValue = this.RULE('attrValue', (): AttrSyntax['value'] =>
    this.OR<AttrSyntax['value']>([
      { ALT: () => ({ literal: this.SUBRULE(this.literal) }) },
      { ALT: () => ({ string: this.CONSUME(StringTok) }) },
      { ALT: () => ({ list: this.SUBRULE(this.numberList) }) },
    ]),
  );

  /** [1, 2, -inf] */
  private readonly numberList = this.RULE('numberList', (): LiteralSyntax[] => {
    const items: LiteralSyntax[] = [];
    this.CONSUME(LSquare);
    this.MANY_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE(this.literal)) });
    this.CONSUME(RSquare);
    return items;
  });

  /** 1.5 | -inf | identifier */
  private readonly literal = this.RULE('literal', (): LiteralSyntax =>
    this.OR<LiteralSyntax>([
      { ALT: () => ({ minus: undefined, token: this.CONSUME(NumberTok) }) },
      { ALT: () => ({ minus: this.CONSUME(Minus), token: this.CONSUME(Identifier) }) },
      { ALT: () => ({ minus: undefined, token: this.CONSUME2(Identifier) }) },
    ]),
  );

  /** { [^(%v: type, ...):] ops } */
  private readonly region = this.RULE('region', (): RegionSyntax => {
    const open = this.CONSUME(LCurly);
    const args = this.OPTION(() => {
      const list: { name: IToken; type: TypeSyntax }[] = [];
      this.CONSUME(Caret);
      this.CONSUME(LParen);
      this.MANY_SEP({
        SEP: Comma,
        DEF: () => {
          const name = this.CONSUME(ValueName);
          this.CONSUME(Colon);
          list.push({ name, type: this.SUBRULE(this.type) });
        },
      });
      this.CONSUME(RParen);
      this.CONSUME2(Colon);
      return list;
    });
    const ops: OpSyntax[] = [];
    this.MANY(() => ops.push(this.SUBRULE(this.op)));
    const close = this.CONSUME(RCurly);
    return { open, args, ops, close };
  });

  /** global<f32>[M, 8] | tile<f32>[4, 8] | shared<f16>[64, 64] | f32, then an optional layout */
  private readonly type = this.RULE('type', (): TypeSyntax => {
    const base = this.OR([
      { ALT: () => this.SUBRULE(this.memoryType) },
      {
        ALT: () => {
          const d = this.CONSUME(Identifier);
          return { head: d, dtype: d, shape: [] };
        },
      },
    ]);
    const layout = this.OPTION(() => this.SUBRULE(this.layoutAttr));
    return { ...base, layout };
  });

  private readonly memoryType = this.RULE('memoryType', (): Omit<TypeSyntax, 'layout'> => {
    const head = this.OR([{ ALT: () => this.CONSUME(GlobalKw) }, { ALT: () => this.CONSUME(TileKw) }, { ALT: () => this.CONSUME(SharedKw) }]);
    this.CONSUME(Lt);
    const dt = this.CONSUME(Identifier);
    this.CONSUME(Gt);
    const shape: IToken[] = [];
    this.CONSUME(LSquare);
    this.MANY_SEP({ SEP: Comma, DEF: () => shape.push(this.SUBRULE(this.dim)) });
    this.CONSUME(RSquare);
    return { head, dtype: dt, shape };
  });

  /** 8 | N */
  private readonly dim = this.RULE('dim', (): IToken => this.OR([{ ALT: () => this.CONSUME(NumberTok) }, { ALT: () => this.CONSUME(Identifier) }]));

  /** #reg([shape], [modes], [spatial], [local]) | #cute(CuTe text) */
  private readonly layoutAttr = this.RULE('layoutAttr', (): LayoutSyntax =>
    this.OR<LayoutSyntax>([
      {
        ALT: () => {
          const at = this.CONSUME(HashReg);
          this.CONSUME(LParen);
          const lists = [this.SUBRULE1(this.numberList)];
          this.CONSUME1(Comma);
          lists.push(this.SUBRULE2(this.numberList));
          this.CONSUME2(Comma);
          lists.push(this.SUBRULE3(this.numberList));
          this.CONSUME3(Comma);
          lists.push(this.SUBRULE4(this.numberList));
          this.CONSUME(RParen);
          return { at, lists };
        },
      },
      {
        ALT: () => {
          const at = this.CONSUME(HashCute);
          const open = this.CONSUME2(LParen);
          this.SUBRULE(this.cuteText);
          const close = this.CONSUME2(RParen);
          return { at, open, close };
        },
      },
    ]),
  );

  /** The tokens of CuTe notation, parentheses balanced; the text itself is read by layout/parse.ts. */
  private readonly cuteText = this.RULE('cuteText', (): void => {
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(LParen);
            this.SUBRULE(this.cuteText);
            this.CONSUME(RParen);
          },
        },
        { ALT: () => this.CONSUME(NumberTok) },
        { ALT: () => this.CONSUME(Comma) },
        { ALT: () => this.CONSUME(Colon) },
        { ALT: () => this.CONSUME(Lt) },
        { ALT: () => this.CONSUME(Gt) },
        { ALT: () => this.CONSUME(Identifier) },
      ]),
    );
  });
}

const LEXER = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: true });
let grammar: IrGrammar | undefined; // built on first use: the self-analysis takes a few milliseconds

// ---------------------------------------------------------------------------------------------------
// Errors

/** One problem, at a 1-based line and column of the text. */
export interface ParseDiagnostic {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The error parseKernel throws: every problem found, each rendered with its source line in `message`. */
export class IrParseError extends IrError {
  constructor(
    code: IrErrorCode,
    message: string,
    readonly diagnostics: readonly ParseDiagnostic[],
  ) {
    super(code, message);
  }
}

/** An error found while building, at a token; parseKernel turns it into an IrParseError. */
class SourceError extends Error {
  constructor(
    readonly token: IToken,
    readonly code: IrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One IrParseError listing the problems in source order. */
function parseError(file: SourceText, code: IrErrorCode, problems: readonly ParseDiagnostic[]): IrParseError {
  const unique = SourceText.sorted(problems);
  return new IrParseError(code, unique.map((p) => file.render(p)).join('\n'), unique);
}

// ---------------------------------------------------------------------------------------------------
// Entry point

/**
 * Parses the text form of one kernel (as printKernel writes it) and builds it with KernelBuilder.
 * Throws an IrParseError naming `source`, the line and the column of every problem found.
 */
export function parseKernel(text: string, source = '<ir>'): Kernel {
  const file = new SourceText(text, source);
  try {
    const syntax = parseSyntax(text, file);
    return new KernelReader(text).kernel(syntax);
  } catch (e) {
    if (e instanceof IrParseError) throw e;
    if (e instanceof SourceError) throw parseError(file, e.code, [{ ...file.tokenPosition(e.token), message: e.message }]);
    // Not expected: regions nested thousands deep, or a bug here or in a module we call. Still an
    // IrError, as promised.
    const why = e instanceof RangeError ? 'the text nests too deeply' : e instanceof Error ? e.message : String(e);
    grammar = undefined; // it may have been stopped half-way: build a fresh one next time
    throw parseError(file, e instanceof IrError ? e.code : 'parse', [{ line: 1, column: 1, message: `internal error while parsing: ${why}` }]);
  }
}

/** Lexes and parses; throws an IrParseError listing every lexing and syntax error. */
function parseSyntax(text: string, file: SourceText): KernelSyntax {
  const lexed = LEXER.tokenize(text);
  const problems: ParseDiagnostic[] = lexed.errors.map((e) => {
    const chars = text.slice(e.offset, e.offset + e.length);
    return {
      ...(e.line !== undefined && e.column !== undefined ? { line: e.line, column: e.column } : file.position(e.offset)),
      message: `unexpected character${chars.length > 1 ? 's' : ''} ${JSON.stringify(chars)}`,
    };
  });
  // Deep nesting would overflow the parser's stack: refuse it up front, at the bracket. What the
  // printer writes for a kernel the builder accepts (regions and grid extents MAX_NESTING deep, a few
  // brackets more inside an op) stays well inside twice that.
  let depth = 0;
  for (const t of lexed.tokens) {
    if (t.tokenType === LParen || t.tokenType === LSquare || t.tokenType === LCurly) depth++;
    else if (t.tokenType === RParen || t.tokenType === RSquare || t.tokenType === RCurly) depth = Math.max(0, depth - 1);
    if (depth > 2 * MAX_NESTING) {
      throw parseError(file, 'parse', [{ ...file.tokenPosition(t), message: `brackets nest more than ${2 * MAX_NESTING} deep` }]);
    }
  }
  grammar ??= new IrGrammar();
  grammar.input = lexed.tokens;
  const syntax = grammar.kernel();
  // Recovery is a guess: after the first error on a line the rest of the line is mostly noise, and
  // input left over after an error is usually a brace the recovery took for the kernel's last one.
  const lines = new Set(problems.map((p) => p.line));
  for (const e of grammar.errors) {
    const at = file.syntaxErrorPosition(e.token, (e as { previousToken?: IToken }).previousToken);
    if (lines.has(at.line) || (e.name === 'NotAllInputParsedException' && problems.length > 0)) continue;
    lines.add(at.line);
    problems.push({ ...at, message: e.message });
  }
  if (problems.length > 0 || syntax === undefined) {
    throw parseError(file, 'parse', problems.length > 0 ? problems : [{ line: 1, column: 1, message: 'expected a kernel' }]);
  }
  return syntax;
}

// ---------------------------------------------------------------------------------------------------
// Building: syntax -> Kernel, through KernelBuilder

const GRID_OPS: readonly GridOp[] = ['cdiv', 'add', 'sub', 'mul', 'min', 'max'];
/** The leaves of a grid expression (numbers and symbols), in order: where a diagnostic about one points. */
const gridLeaves = (g: GridSyntax): IToken[] => ('leaf' in g ? [g.leaf] : [...gridLeaves(g.args[0]), ...gridLeaves(g.args[1])]);

const fail = (token: IToken, message: string): never => {
  throw new SourceError(token, 'parse', message);
};

/** `type` with its layout removed (the type rules give layout-free types). */
function withoutLayout(t: Type): Type {
  return t.kind === 'tile' ? tileType(t.dtype, t.shape, t.space) : t;
}

class KernelReader {
  private builder: KernelBuilder | undefined;
  /** Values visible at this point, one map per open region (the kernel body first). */
  private readonly scopes: Map<string, Value>[] = [];
  /** Every name defined so far, open region or not, where it was defined. */
  private readonly defined = new Map<string, IToken>();

  constructor(private readonly text: string) {}

  kernel(s: KernelSyntax): Kernel {
    const params = this.params(s.params);
    const grid = s.grid.map((g) => this.gridExpr(g));
    const builder = this.at(s.name, () => new KernelBuilder(s.name.image.slice(1), params, grid));
    this.builder = builder;
    this.scopes.push(new Map());
    for (const a of s.args) {
      const type = this.argType(a);
      this.define(a.name, this.at(a.name, () => builder.arg(a.name.image.slice(1), type)));
    }
    const extents = new Set(s.args.flatMap((a) => a.type.shape.filter((d) => d.tokenType !== NumberTok).map((d) => d.image)));
    for (const g of s.grid) {
      const unknown = gridLeaves(g).find((t) => t.tokenType !== NumberTok && !extents.has(t.image));
      if (unknown !== undefined) fail(unknown, `the grid names ${unknown.image}, which is no tensor's extent`);
    }
    for (const r of s.requires) {
      const what = "a requirement's extent";
      const requirement = { rel: r.rel.image as RequirementRel, left: this.gridExpr(r.left, what), right: this.gridExpr(r.right, what) };
      for (const syntax of [r.left, r.right]) {
        const unknown = gridLeaves(syntax).find((t) => t.tokenType !== NumberTok && !extents.has(t.image));
        if (unknown !== undefined) fail(unknown, `requirement ${formatRequirement(requirement)} names ${unknown.image}, which is no tensor's extent`);
      }
      this.at(r.rel, () => builder.require(requirement));
    }
    for (const op of s.body) this.op(op);
    return builder.finish();
  }

  // --- header

  private params(list: readonly ParamSyntax[]): Record<string, number> {
    const seen = new Set<string>();
    return Object.fromEntries(
      list.map((p) => {
        if (seen.has(p.name.image)) fail(p.name, `parameter ${p.name.image} is given twice`);
        seen.add(p.name.image);
        return [p.name.image, this.number(p.value)];
      }),
    );
  }

  private gridExpr(g: GridSyntax, what = 'a grid extent'): GridExpr {
    if ('leaf' in g) return g.leaf.tokenType === NumberTok ? this.integer(g.leaf, what) : g.leaf.image;
    const op = g.op.image as GridOp;
    if (!GRID_OPS.includes(op)) fail(g.op, `unknown grid operation '${g.op.image}' (expected ${either(GRID_OPS)})`);
    return { op, args: [this.gridExpr(g.args[0], what), this.gridExpr(g.args[1], what)] };
  }

  private argType(a: ArgSyntax): Type {
    const isTensor = a.type.head.tokenType === GlobalKw;
    if (isTensor && a.access === undefined) fail(a.type.head, `tensor argument ${a.name.image} needs an access: in, out or inout`);
    if (!isTensor && a.access !== undefined) fail(a.access, `only global tensors take an access (${a.access.image})`);
    return this.type(a.type, a.access?.image as Access | undefined);
  }

  // --- ops

  /** Builds one op into the current region. */
  private op(op: OpSyntax): void {
    const name = op.opcode.image;
    if (name === 'yield') fail(op.opcode, 'yield may only end the region of a for or an if');
    if (!isOpcode(name)) fail(op.opcode, `unknown opcode '${name}'`);
    const opcode = name as Opcode;
    const operands = op.operands.map((t) => this.use(t));
    const attrs = this.attrs(op.attrs);
    const annotated = op.types.map((t) => this.type(t));
    const results =
      opcode === 'for'
        ? this.forOp(op, operands, attrs, annotated)
        : opcode === 'if'
          ? this.ifOp(op, operands, attrs, annotated)
          : this.plainOp(op, opcode, operands, attrs, annotated);
    if (op.results.length !== results.length) {
      fail(op.results[0] ?? op.opcode, `${name} gives ${count(results.length, 'result')}, but ${count(op.results.length, 'name')} ${op.results.length === 1 ? 'is' : 'are'} given`);
    }
    results.forEach((v, i) => this.define(op.results[i]!, v));
  }

  private plainOp(op: OpSyntax, opcode: Opcode, operands: Value[], attrs: Record<string, AttrValue>, annotated: Type[]): Value[] {
    if (op.regions[0] !== undefined) fail(op.regions[0].open, `${opcode} takes no regions`);
    const builder = this.builder!;
    const types = this.at(op.opcode, () => inferResultTypes(opcode, operands.map((v) => v.type), attrs));
    this.checkAnnotation(op, types, annotated, true);
    const layouts = annotated.map((t) => (t.kind === 'tile' ? t.layout : undefined));
    // The types are known to be right here, so what emit can still refuse is a layout.
    const layoutAt = op.types.find((t) => t.layout !== undefined)?.layout?.at;
    return this.at(layoutAt ?? op.opcode, () => builder.emit(opcode, operands, attrs, undefined, layoutAt === undefined ? undefined : layouts));
  }

  /** for(lower, upper, step, inits...) { ^(%i: i32, carried...): ... yield(next...) } */
  private forOp(op: OpSyntax, operands: Value[], attrs: Record<string, AttrValue>, annotated: Type[]): Value[] {
    const builder = this.builder!;
    this.noAttributes(op, attrs);
    if (operands.length < 3) fail(op.opcode, 'for takes lower, upper and step bounds, then the initial carried values');
    const [region, extra] = op.regions;
    if (region === undefined) fail(op.opcode, 'for needs a region');
    if (extra !== undefined) fail(extra.open, 'for has one region (no else)');
    const header = region!.args;
    if (header === undefined) fail(region!.open, 'a for region starts with ^(%i: i32, carried values...):');
    const [lower, upper, step, ...inits] = operands as [Value, Value, Value, ...Value[]];
    if (header!.length !== inits.length + 1) {
      fail(header![0]?.name ?? region!.open, `the for region takes the loop index and ${count(inits.length, 'carried value')}, got ${count(header!.length, 'argument')}`);
    }
    const results = this.at(op.opcode, () =>
      builder.forLoop(lower, upper, step, inits, (iv, carried) =>
        this.inScope(() => {
          [iv, ...carried].forEach((v, i) => this.defineRegionArg(header![i]!, v));
          const [yielded, at] = this.regionBody(region!, 'for');
          this.checkYield(at, yielded, inits.map((v) => v.type), 'the carried values');
          return yielded;
        }),
      ),
    );
    this.checkAnnotation(op, results.map((v) => v.type), annotated, false);
    return results;
  }

  /** if(cond) { ... yield(v...) } else { ... yield(w...) } */
  private ifOp(op: OpSyntax, operands: Value[], attrs: Record<string, AttrValue>, annotated: Type[]): Value[] {
    const builder = this.builder!;
    this.noAttributes(op, attrs);
    const [cond, extraOperand] = operands;
    if (cond === undefined || extraOperand !== undefined) fail(op.opcode, 'if takes one condition');
    const [then, otherwise, extra] = op.regions;
    if (then === undefined || otherwise === undefined) fail(then?.close ?? op.opcode, 'if needs a then region and an else region');
    if (extra !== undefined) fail(extra.open, 'if has two regions');
    for (const r of [then!, otherwise!]) if (r.args !== undefined) fail(r.open, 'the regions of an if take no arguments');
    let thenTypes: Type[] = [];
    const results = this.at(op.opcode, () =>
      builder.ifElse(
        cond!,
        () =>
          this.inScope(() => {
            const [values] = this.regionBody(then!, 'if');
            thenTypes = values.map((v) => v.type);
            return values;
          }),
        () =>
          this.inScope(() => {
            const [values, at] = this.regionBody(otherwise!, 'else');
            this.checkYield(at, values, thenTypes, 'what the then region yields');
            return values;
          }),
      ),
    );
    this.checkAnnotation(op, results.map((v) => v.type), annotated, false);
    return results;
  }

  /** Builds a region's ops; returns the values its final yield yields, and that yield's token. */
  private regionBody(r: RegionSyntax, what: string): [Value[], IToken] {
    const last = r.ops[r.ops.length - 1];
    if (last === undefined || last.opcode.image !== 'yield') fail(r.close, `the ${what} region must end with yield(...)`);
    for (const op of r.ops.slice(0, -1)) this.op(op);
    const y = last!;
    if (y.results.length > 0) fail(y.results[0]!, 'yield has no results');
    if (y.attrs[0] !== undefined) fail(y.attrs[0].key, 'yield takes no attributes');
    if (y.regions[0] !== undefined) fail(y.regions[0].open, 'yield takes no regions');
    if (y.types[0] !== undefined) fail(y.types[0].head, 'yield has no results to annotate');
    return [y.operands.map((t) => this.use(t)), y.opcode];
  }

  private checkYield(at: IToken, values: readonly Value[], expected: readonly Type[], what: string): void {
    if (values.length !== expected.length || values.some((v, i) => !typeEquals(v.type, expected[i]!))) {
      fail(at, `yields (${values.map((v) => formatType(v.type)).join(', ')}), which must match ${what} (${expected.map(formatType).join(', ')})`);
    }
  }

  /**
   * The types written after an op must be those it gives. Where `layoutsAttach`, a written layout is
   * what is attached to a layout-free result, so it is left out of the comparison.
   */
  private checkAnnotation(op: OpSyntax, types: readonly Type[], annotated: readonly Type[], layoutsAttach: boolean): void {
    if (annotated.length === 0) return;
    if (annotated.length !== types.length) fail(op.types[0]!.head, `${op.opcode.image} gives ${count(types.length, 'result')}, but ${count(annotated.length, 'type')} written`);
    types.forEach((t, i) => {
      const written = annotated[i]!;
      const same = typeEquals(written, t) || (layoutsAttach && t.kind === 'tile' && t.layout === undefined && typeEquals(withoutLayout(written), t));
      if (!same) fail(op.types[i]!.head, `${op.opcode.image} gives ${formatType(t)}, but the text says ${formatType(written)}`);
    });
  }

  private noAttributes(op: OpSyntax, attrs: Record<string, AttrValue>): void {
    if (Object.keys(attrs).length > 0) fail(op.attrs[0]!.key, `${op.opcode.image} takes no attributes`);
  }

  private defineRegionArg(arg: { readonly name: IToken; readonly type: TypeSyntax }, v: Value): void {
    const written = this.type(arg.type);
    if (!typeEquals(written, v.type)) fail(arg.type.head, `${arg.name.image} has type ${formatType(v.type)}, but the text says ${formatType(written)}`);
    this.define(arg.name, v);
  }

  // --- names

  private inScope<T>(build: () => T): T {
    this.scopes.push(new Map());
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  private define(token: IToken, v: Value): void {
    const first = this.defined.get(token.image);
    if (first !== undefined) fail(token, `${token.image} is defined twice (first at ${first.startLine}:${first.startColumn})`);
    this.defined.set(token.image, token);
    this.scopes[this.scopes.length - 1]!.set(token.image, v);
  }

  private use(token: IToken): Value {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const v = this.scopes[i]!.get(token.image);
      if (v !== undefined) return v;
    }
    if (this.defined.has(token.image)) return fail(token, `${token.image} is used outside the loop or branch that defines it`);
    return fail(token, `unknown value ${token.image}`);
  }

  // --- attributes, numbers, types, layouts

  private attrs(list: readonly AttrSyntax[]): Record<string, AttrValue> {
    const seen = new Set<string>();
    // Object.fromEntries, not assignment: a key like __proto__ must stay an ordinary attribute.
    return Object.fromEntries(
      list.map((a) => {
        if (seen.has(a.key.image)) fail(a.key, `attribute ${a.key.image} is given twice`);
        seen.add(a.key.image);
        return [a.key.image, this.attrValue(a.value)];
      }),
    );
  }

  /** Numbers (inf, -inf and nan included), true / false, other identifiers as strings, strings, lists. */
  private attrValue(v: AttrSyntax['value']): AttrValue {
    if ('string' in v) return JSON.parse(v.string.image) as string;
    if ('list' in v) return v.list.map((l) => this.number(l));
    const { token, minus } = v.literal;
    if (token.tokenType === NumberTok || minus !== undefined || token.image === 'inf' || token.image === 'nan') return this.number(v.literal);
    if (token.image === 'true' || token.image === 'false') return token.image === 'true';
    return token.image;
  }

  /** 12, -0.5, 1e-5, inf, -inf, nan. */
  private number(l: LiteralSyntax): number {
    const word = l.token.image;
    if (l.token.tokenType === NumberTok) return Number(word);
    if (l.minus !== undefined) return word === 'inf' ? -Infinity : fail(l.minus, `expected a number after '-', found '${word}'`);
    if (word === 'inf') return Infinity;
    if (word === 'nan') return NaN;
    return fail(l.token, `expected a number, found '${word}'`);
  }

  private intLiteral(l: LiteralSyntax, what: string): number {
    return this.integer(l.minus ?? l.token, what);
  }

  private integer(token: IToken, what: string): number {
    const v = Number(token.image);
    if (token.tokenType !== NumberTok || !Number.isSafeInteger(v)) fail(token, `${what} must be an integer, found '${token.image}'`);
    return v;
  }

  private type(t: TypeSyntax, access?: Access): Type {
    const d = this.at(t.dtype, () => dtype(t.dtype.image));
    const kind = t.head.tokenType;
    if (kind === GlobalKw) {
      if (access === undefined) fail(t.head, 'global tensors appear only as kernel arguments');
      if (t.layout !== undefined) fail(t.layout.at, 'a global tensor has no layout');
      const shape: Dim[] = t.shape.map((x) => (x.tokenType === NumberTok ? this.extent(x) : x.image));
      return tensorType(d, shape, access!);
    }
    const shape = t.shape.map((x) => this.extent(x));
    const layout = t.layout === undefined ? undefined : this.layout(t.layout);
    return tileType(d, shape, kind === SharedKw ? 'shared' : 'register', layout);
  }

  private extent(token: IToken): number {
    if (token.tokenType !== NumberTok) fail(token, `the extents of a tile are integers, found '${token.image}'`);
    const v = this.integer(token, 'an extent');
    if (v < 0) fail(token, `an extent cannot be negative, found ${v}`);
    return v;
  }

  private layout(l: LayoutSyntax): NonNullable<TileType['layout']> {
    if ('lists' in l) {
      const [shape, modes, spatial, local] = l.lists.map((list) => list.map((x) => this.intLiteral(x, 'a register layout entry')));
      return this.at(l.at, () => registerLayout(shape!, modes!, spatial!, local!));
    }
    const text = this.text.slice(l.open.startOffset + 1, l.close.startOffset).trim();
    return this.at(l.at, (): Layout | ComposedLayout => (text.startsWith('Sw') ? parseComposedLayout(text) : parseLayout(text)));
  }

  /** Runs `build`, placing an error of the IR or the layout algebra at `token`. */
  private at<T>(token: IToken, build: () => T): T {
    try {
      return build();
    } catch (e) {
      if (e instanceof IrError) throw new SourceError(token, e.code, e.message);
      if (e instanceof LayoutError) throw new SourceError(token, 'layout', e.message);
      throw e;
    }
  }
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
