/**
 * The syntax of `.tk` files: a chevrotain lexer and parser that turn the text into syntax trees
 * (tokens arranged by construct, nothing interpreted). Recovery is on, so every syntax error of a file
 * is reported at once; the trees of a file with errors are never lowered.
 *
 *   file      := {kernel}
 *   kernel    := 'kernel' NAME '(' [arg {',' arg}] ')' ['grid' '(' expr {',' expr} ')'] ['requires' '(' expr {',' expr} ')']
 *                ['params' '(' NAME '=' ['-'] NUMBER {',' ...} ')'] ['shapes' '(' NAME '=' NUMBER {',' ...} ')'] block
 *   arg       := NAME ':' [in | out | inout] DTYPE ['[' dim {',' dim} ']']
 *   block     := '{' {stmt} '}'
 *   stmt      := 'let' NAME '=' expr ';' | NAME '=' expr ';' | expr ';'
 *              | 'for' NAME 'in' 'range' '(' args ')' block | 'if' expr block ['else' (block | if-stmt)]
 *   expr      := or;  or := and {'||' and};  and := bitor {'&&' bitor};  bitor := xor {'|' xor}
 *   xor       := bitand {'^' bitand};  bitand := cmp {'&' cmp};  cmp := add {('=='|'!='|'<'|'<='|'>'|'>=') add}
 *   add       := mul {('+'|'-') mul};  mul := unary {('*'|'/'|'%') unary};  unary := ('-'|'!') unary | postfix
 *   postfix   := primary {'.' NAME ['(' args ')'] | '[' expr {',' expr} ']'}
 *   primary   := NUMBER | NAME ['(' args ')'] | '(' expr {',' expr} ')' | '[' [expr {',' expr}] ']'
 *   args      := [arg {',' arg}],  arg := [NAME ':'] expr [':' expr]
 *
 * `(a, b, ...)` with a comma is a tuple, and `expr ':' expr` in an argument a CuTe layout SHAPE:STRIDE;
 * both only have a meaning inside cute(...) and swizzle(...), which lowering checks.
 */
import { EOF, EmbeddedActionsParser, type IParserErrorMessageProvider, type IToken, Lexer, type TokenType, createToken } from 'chevrotain';
import { MAX_NESTING } from '../../compiler/ir/errors.js';

// ---------------------------------------------------------------------------------------------------
// Tokens

export const Identifier = createToken({ name: 'Identifier', label: 'a name', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
/** Reserved words: never names. */
const reserved = (word: string): TokenType => createToken({ name: `Kw_${word}`, label: `'${word}'`, pattern: new RegExp(word), longer_alt: Identifier });
/** Contextual words: keywords where the grammar expects them, names everywhere else. */
const contextual = (word: string): TokenType =>
  createToken({ name: `Ctx_${word}`, label: `'${word}'`, pattern: new RegExp(word), longer_alt: Identifier, categories: [Identifier] });
const KernelKw = reserved('kernel');
const LetKw = reserved('let');
const ForKw = reserved('for');
const IfKw = reserved('if');
const ElseKw = reserved('else');
const InoutKw = contextual('inout'); // before `in`, its prefix
const InKw = contextual('in');
const OutKw = contextual('out');
const GridKw = contextual('grid');
const RequiresKw = contextual('requires');
const ParamsKw = contextual('params');
const ShapesKw = contextual('shapes');
const RangeKw = contextual('range');

const punct = (name: string, text: string): TokenType => createToken({ name, label: `'${text}'`, pattern: text });
const LParen = punct('LParen', '(');
const RParen = punct('RParen', ')');
const LCurly = punct('LCurly', '{');
const RCurly = punct('RCurly', '}');
const LSquare = punct('LSquare', '[');
const RSquare = punct('RSquare', ']');
const Comma = punct('Comma', ',');
const Colon = punct('Colon', ':');
const Semi = punct('Semi', ';');
const Dot = punct('Dot', '.');
const OrOr = punct('OrOr', '||');
const AndAnd = punct('AndAnd', '&&');
const EqEq = punct('EqEq', '==');
const NotEq = punct('NotEq', '!=');
const LtEq = punct('LtEq', '<=');
const GtEq = punct('GtEq', '>=');
const Lt = punct('Lt', '<');
const Gt = punct('Gt', '>');
const Equals = punct('Equals', '=');
const Bang = punct('Bang', '!');
const Pipe = punct('Pipe', '|');
const Amp = punct('Amp', '&');
const Caret = punct('Caret', '^');
const Plus = punct('Plus', '+');
const Minus = punct('Minus', '-');
const Star = punct('Star', '*');
const Slash = punct('Slash', '/');
const Percent = punct('Percent', '%');

const NumberTok = createToken({ name: 'Number', label: 'a number', pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/ });
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED, line_breaks: true });
const Comment = createToken({ name: 'Comment', pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });

const ALL_TOKENS = [
  WhiteSpace, Comment, NumberTok,
  LParen, RParen, LCurly, RCurly, LSquare, RSquare, Comma, Colon, Semi, Dot,
  OrOr, AndAnd, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Equals, Bang, Pipe, Amp, Caret, Plus, Minus, Star, Slash, Percent,
  KernelKw, LetKw, ForKw, IfKw, ElseKw, InoutKw, InKw, OutKw, GridKw, RequiresKw, ParamsKw, ShapesKw, RangeKw, Identifier,
];

export const LEXER = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });

const COMPARISON = [EqEq, NotEq, LtEq, GtEq, Lt, Gt];

// ---------------------------------------------------------------------------------------------------
// Syntax trees

export type Expr =
  | { readonly kind: 'number'; readonly token: IToken }
  | { readonly kind: 'name'; readonly token: IToken }
  | { readonly kind: 'binary'; readonly op: IToken; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'unary'; readonly op: IToken; readonly operand: Expr }
  | { readonly kind: 'call'; readonly name: IToken; readonly args: readonly CallArg[]; readonly close: IToken }
  /** `.name(args)` when args is present, the property `.name` otherwise. */
  | { readonly kind: 'member'; readonly target: Expr; readonly name: IToken; readonly args: readonly CallArg[] | undefined }
  | { readonly kind: 'index'; readonly target: Expr; readonly open: IToken; readonly indices: readonly Expr[] }
  | { readonly kind: 'list'; readonly open: IToken; readonly items: readonly Expr[] }
  /** `(a, b, ...)`: a CuTe integer tuple (two items or more). */
  | { readonly kind: 'tuple'; readonly open: IToken; readonly items: readonly Expr[] }
  /** `SHAPE:STRIDE` as an argument: a CuTe layout. */
  | { readonly kind: 'cute'; readonly colon: IToken; readonly shape: Expr; readonly stride: Expr };

export interface CallArg {
  readonly label: IToken | undefined;
  readonly value: Expr;
}

export type Stmt =
  | { readonly kind: 'let'; readonly keyword: IToken; readonly name: IToken; readonly value: Expr }
  | { readonly kind: 'assign'; readonly name: IToken; readonly value: Expr }
  | { readonly kind: 'expr'; readonly value: Expr }
  | { readonly kind: 'for'; readonly keyword: IToken; readonly variable: IToken; readonly range: IToken; readonly args: readonly CallArg[]; readonly body: readonly Stmt[] }
  | { readonly kind: 'if'; readonly keyword: IToken; readonly cond: Expr; readonly then: readonly Stmt[]; readonly otherwise: readonly Stmt[] | undefined };

export interface ArgSyntax {
  readonly name: IToken;
  readonly access: IToken | undefined;
  readonly dtype: IToken;
  /** Present for tensors (even when empty: `f32[]` is an error reported later). */
  readonly dims: readonly IToken[] | undefined;
}

export interface ParamSyntax {
  readonly name: IToken;
  readonly minus: IToken | undefined;
  readonly value: IToken;
}

export interface KernelSyntax {
  readonly keyword: IToken;
  readonly name: IToken;
  readonly args: readonly ArgSyntax[];
  readonly grid: readonly Expr[] | undefined;
  /** Comparisons of extents (== or <=) a launch must satisfy. */
  readonly requires: readonly Expr[];
  readonly params: readonly ParamSyntax[];
  readonly shapes: readonly ParamSyntax[];
  readonly body: readonly Stmt[];
}

// ---------------------------------------------------------------------------------------------------
// Grammar

const RULE_NAMES: Readonly<Record<string, string>> = {
  statement: 'a statement',
  primary: 'an expression',
  unary: 'an expression',
  argument: 'an argument',
  dim: 'an extent (a name or an integer)',
  kernel: "'kernel'",
  file: "'kernel'",
};

const found = (t: IToken | undefined): string => (t === undefined || t.tokenType === EOF ? 'the end of the file' : `'${t.image}'`);
const labelOf = (t: TokenType): string => (t === EOF ? 'the end of the file' : (t.LABEL ?? t.name));
const either = (labels: readonly string[]): string =>
  labels.length <= 1 ? (labels[0] ?? 'something else') : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;

const MESSAGES: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${labelOf(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected 'kernel' but found ${found(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = [...new Set(expectedPathsPerAlt.flatMap((paths) => paths.map((p) => (p[0] ? labelOf(p[0]) : ''))))].filter((l) => l);
    return `expected ${RULE_NAMES[ruleName] ?? either(firsts)} but found ${found(actual[0])}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) =>
    `expected ${either([...new Set(expectedIterationPaths.map((p) => (p[0] ? labelOf(p[0]) : '')))].filter((l) => l))} but found ${found(actual[0])}`,
};

class TkGrammar extends EmbeddedActionsParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: MESSAGES });
    this.performSelfAnalysis();
  }

  readonly file = this.RULE('file', (): KernelSyntax[] => {
    const kernels: KernelSyntax[] = [];
    this.MANY(() => kernels.push(this.SUBRULE(this.kernel)));
    return kernels;
  });

  private readonly kernel = this.RULE('kernel', (): KernelSyntax => {
    const keyword = this.CONSUME(KernelKw);
    const name = this.CONSUME(Identifier);
    const args: ArgSyntax[] = [];
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => args.push(this.SUBRULE(this.argDecl)) });
    this.CONSUME(RParen);
    let grid: Expr[] | undefined;
    this.OPTION(() => {
      this.CONSUME(GridKw);
      this.CONSUME2(LParen);
      grid = [];
      this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => grid!.push(this.SUBRULE(this.expr)) });
      this.CONSUME2(RParen);
    });
    const requires: Expr[] = [];
    this.OPTION4(() => {
      this.CONSUME(RequiresKw);
      this.CONSUME3(LParen);
      this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => requires.push(this.SUBRULE2(this.expr)) });
      this.CONSUME3(RParen);
    });
    const params = this.OPTION2(() => {
      this.CONSUME(ParamsKw);
      return this.SUBRULE(this.bindings);
    }) ?? [];
    const shapes = this.OPTION3(() => {
      this.CONSUME(ShapesKw);
      return this.SUBRULE2(this.bindings);
    }) ?? [];
    const body = this.SUBRULE(this.block);
    return { keyword, name, args, grid, requires, params, shapes, body };
  });

  /** params(A = 1, ...) or shapes(N = 1000, ...) */
  private readonly bindings = this.RULE('bindings', (): ParamSyntax[] => {
    this.CONSUME(LParen);
    const list: ParamSyntax[] = [];
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => {
        const name = this.CONSUME(Identifier);
        this.CONSUME(Equals);
        const minus = this.OPTION(() => this.CONSUME(Minus));
        const value = this.CONSUME(NumberTok);
        list.push({ name, minus, value });
      },
    });
    this.CONSUME(RParen);
    return list;
  });

  private readonly argDecl = this.RULE('argDecl', (): ArgSyntax => {
    const name = this.CONSUME(Identifier);
    this.CONSUME(Colon);
    const access = this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(InoutKw) }, { ALT: () => this.CONSUME(InKw) }, { ALT: () => this.CONSUME(OutKw) }]));
    const dtype = this.CONSUME2(Identifier);
    const dims = this.OPTION2(() => {
      this.CONSUME(LSquare);
      const list: IToken[] = [];
      this.MANY_SEP({ SEP: Comma, DEF: () => list.push(this.SUBRULE(this.dim)) });
      this.CONSUME(RSquare);
      return list;
    });
    return { name, access, dtype, dims };
  });

  private readonly dim = this.RULE('dim', (): IToken => this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(NumberTok) }]));

  private readonly block = this.RULE('block', (): Stmt[] => {
    this.CONSUME(LCurly);
    const stmts: Stmt[] = [];
    this.MANY(() => stmts.push(this.SUBRULE(this.statement)));
    this.CONSUME(RCurly);
    return stmts;
  });

  private readonly statement = this.RULE('statement', (): Stmt =>
    this.OR([
      {
        ALT: () => {
          const keyword = this.CONSUME(LetKw);
          const name = this.CONSUME(Identifier);
          this.CONSUME(Equals);
          const value = this.SUBRULE(this.expr);
          this.CONSUME(Semi);
          return { kind: 'let' as const, keyword, name, value };
        },
      },
      {
        ALT: () => {
          const keyword = this.CONSUME(ForKw);
          const variable = this.CONSUME2(Identifier);
          this.CONSUME(InKw);
          const range = this.CONSUME(RangeKw);
          this.CONSUME(LParen);
          const args = this.SUBRULE(this.callArgs);
          this.CONSUME(RParen);
          const body = this.SUBRULE(this.block);
          return { kind: 'for' as const, keyword, variable, range, args, body };
        },
      },
      { ALT: () => this.SUBRULE(this.ifStatement) },
      {
        GATE: () => this.LA(2).tokenType === Equals,
        ALT: () => {
          const name = this.CONSUME3(Identifier);
          this.CONSUME2(Equals);
          const value = this.SUBRULE2(this.expr);
          this.CONSUME2(Semi);
          return { kind: 'assign' as const, name, value };
        },
      },
      {
        ALT: () => {
          const value = this.SUBRULE3(this.expr);
          this.CONSUME3(Semi);
          return { kind: 'expr' as const, value };
        },
      },
    ]),
  );

  /**
   * if c { } else if d { } ... else { }: the else-if branches are read in a loop, not by recursion (a
   * long chain overflowed the parser's stack), and nested into one another afterwards, as the `if` each
   * else holds. Lowering then refuses chains that nest deeper than the IR allows, at the `if` too deep.
   */
  private readonly ifStatement = this.RULE('ifStatement', (): Stmt => {
    const branches: { keyword: IToken; cond: Expr; then: readonly Stmt[] }[] = [];
    const keyword = this.CONSUME(IfKw);
    branches.push({ keyword, cond: this.SUBRULE(this.expr), then: this.SUBRULE(this.block) });
    this.MANY(() => {
      this.CONSUME(ElseKw);
      const elseIf = this.CONSUME2(IfKw);
      branches.push({ keyword: elseIf, cond: this.SUBRULE2(this.expr), then: this.SUBRULE2(this.block) });
    });
    let otherwise = this.OPTION(() => {
      this.CONSUME2(ElseKw);
      return this.SUBRULE3(this.block);
    });
    for (let i = branches.length - 1; i > 0; i--) otherwise = [{ kind: 'if' as const, ...branches[i]!, otherwise }];
    return { kind: 'if' as const, ...branches[0]!, otherwise };
  });

  readonly expr = this.RULE('expr', (): Expr => this.SUBRULE(this.orExpr));

  /** One level of left-associative binary operators over operands of `next`. */
  private binaryLevel(operators: readonly TokenType[], next: () => (idx: number) => Expr): Expr {
    let left = this.SUBRULE(next() as never) as Expr;
    this.MANY(() => {
      const op = this.OR(operators.map((t) => ({ ALT: () => this.CONSUME(t) })));
      const right = this.SUBRULE2(next() as never) as Expr;
      left = { kind: 'binary', op, left, right };
    });
    return left;
  }

  private readonly orExpr = this.RULE('orExpr', (): Expr => this.binaryLevel([OrOr], () => this.andExpr as never));
  private readonly andExpr = this.RULE('andExpr', (): Expr => this.binaryLevel([AndAnd], () => this.bitOrExpr as never));
  private readonly bitOrExpr = this.RULE('bitOrExpr', (): Expr => this.binaryLevel([Pipe], () => this.bitXorExpr as never));
  private readonly bitXorExpr = this.RULE('bitXorExpr', (): Expr => this.binaryLevel([Caret], () => this.bitAndExpr as never));
  private readonly bitAndExpr = this.RULE('bitAndExpr', (): Expr => this.binaryLevel([Amp], () => this.compareExpr as never));
  private readonly compareExpr = this.RULE('compareExpr', (): Expr => this.binaryLevel(COMPARISON, () => this.addExpr as never));
  private readonly addExpr = this.RULE('addExpr', (): Expr => this.binaryLevel([Plus, Minus], () => this.mulExpr as never));
  private readonly mulExpr = this.RULE('mulExpr', (): Expr => this.binaryLevel([Star, Slash, Percent], () => this.unary as never));

  private readonly unary = this.RULE('unary', (): Expr =>
    this.OR([
      {
        ALT: () => {
          const op = this.OR2([{ ALT: () => this.CONSUME(Minus) }, { ALT: () => this.CONSUME(Bang) }]);
          const operand = this.SUBRULE(this.unary);
          return { kind: 'unary' as const, op, operand };
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]),
  );

  private readonly postfix = this.RULE('postfix', (): Expr => {
    let target = this.SUBRULE(this.primary);
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Dot);
            const name = this.CONSUME(Identifier);
            const args = this.OPTION(() => {
              this.CONSUME(LParen);
              const list = this.SUBRULE(this.callArgs);
              this.CONSUME(RParen);
              return list;
            });
            target = { kind: 'member', target, name, args };
          },
        },
        {
          ALT: () => {
            const open = this.CONSUME(LSquare);
            const indices: Expr[] = [];
            this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => indices.push(this.SUBRULE(this.expr)) });
            this.CONSUME(RSquare);
            target = { kind: 'index', target, open, indices };
          },
        },
      ]),
    );
    return target;
  });

  private readonly primary = this.RULE('primary', (): Expr =>
    this.OR([
      { ALT: () => ({ kind: 'number' as const, token: this.CONSUME(NumberTok) }) },
      {
        ALT: () => {
          const name = this.CONSUME(Identifier);
          const call = this.OPTION(() => {
            this.CONSUME(LParen);
            const args = this.SUBRULE(this.callArgs);
            const close = this.CONSUME(RParen);
            return { args, close };
          });
          return call === undefined ? { kind: 'name' as const, token: name } : { kind: 'call' as const, name, args: call.args, close: call.close };
        },
      },
      {
        ALT: (): Expr => {
          const open = this.CONSUME2(LParen);
          const items: Expr[] = [];
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE(this.expr)) });
          this.CONSUME2(RParen);
          return items.length === 1 ? items[0]! : { kind: 'tuple' as const, open, items };
        },
      },
      {
        ALT: () => {
          const open = this.CONSUME(LSquare);
          const items: Expr[] = [];
          this.MANY_SEP({ SEP: Comma, DEF: () => items.push(this.SUBRULE2(this.expr)) });
          this.CONSUME(RSquare);
          return { kind: 'list' as const, open, items };
        },
      },
    ]),
  );

  private readonly callArgs = this.RULE('callArgs', (): CallArg[] => {
    const args: CallArg[] = [];
    this.MANY_SEP({ SEP: Comma, DEF: () => args.push(this.SUBRULE(this.argument)) });
    return args;
  });

  private readonly argument = this.RULE('argument', (): CallArg => {
    const label = this.OPTION({
      GATE: () => this.LA(2).tokenType === Colon,
      DEF: () => {
        const l = this.CONSUME(Identifier);
        this.CONSUME(Colon);
        return l;
      },
    });
    const shape = this.SUBRULE(this.expr);
    const stride = this.OPTION2(() => {
      const colon = this.CONSUME2(Colon);
      return { colon, value: this.SUBRULE2(this.expr) };
    });
    const value: Expr = stride === undefined ? shape : { kind: 'cute', colon: stride.colon, shape, stride: stride.value };
    return { label, value };
  });
}

let grammar: TkGrammar | undefined;

/** How deep brackets may nest, and how many unary operators may follow each other: the IR's nesting limit. */
export { MAX_NESTING };

/** Lexes and parses a file: the kernels found and every lexing and syntax problem. */
export function parseTk(text: string): { kernels: KernelSyntax[]; lexProblems: { offset: number; line: number | undefined; column: number | undefined; message: string }[]; syntaxProblems: { token: IToken; previous: IToken | undefined; message: string; name: string }[] } {
  const lexed = LEXER.tokenize(text);
  const lexProblems = lexed.errors.map((e) => {
    const chars = text.slice(e.offset, e.offset + e.length);
    return { offset: e.offset, line: e.line, column: e.column, message: `unexpected character${chars.length > 1 ? 's' : ''} ${JSON.stringify(chars)}` };
  });
  // Deep nesting would overflow the parser's stack: refuse it up front, at the bracket or operator.
  let depth = 0;
  let unaryRun = 0;
  for (const t of lexed.tokens) {
    if (t.tokenType === LParen || t.tokenType === LSquare || t.tokenType === LCurly) depth++;
    else if (t.tokenType === RParen || t.tokenType === RSquare || t.tokenType === RCurly) depth = Math.max(0, depth - 1);
    unaryRun = t.tokenType === Minus || t.tokenType === Bang ? unaryRun + 1 : 0;
    if (depth > MAX_NESTING || unaryRun > MAX_NESTING) {
      const what = depth > MAX_NESTING ? 'brackets nest' : 'unary operators repeat';
      lexProblems.push({ offset: t.startOffset, line: t.startLine, column: t.startColumn, message: `${what} more than ${MAX_NESTING} deep` });
      return { kernels: [], lexProblems, syntaxProblems: [] };
    }
  }
  grammar ??= new TkGrammar();
  grammar.input = lexed.tokens;
  let kernels: KernelSyntax[];
  try {
    kernels = grammar.file() ?? [];
  } catch (e) {
    grammar = undefined; // stopped half-way (e.g. nested too deeply): build a fresh one next time
    throw e;
  }
  const syntaxProblems = grammar.errors.map((e) => ({
    token: e.token,
    previous: (e as { previousToken?: IToken }).previousToken,
    message: e.message,
    name: e.name,
  }));
  return { kernels, lexProblems, syntaxProblems };
}
