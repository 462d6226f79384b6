/**
 * The text form round-trips: for kernels built by hand with KernelBuilder, parseKernel(printKernel(k))
 * is structurally equal to k, prints to the same text, and verifies. Also: comments and free layout
 * in hand-written text, kernelsEqual itself, and mutated texts that must parse or fail cleanly.
 */
import fc from 'fast-check';
import {
  type GridExpr,
  IrError,
  MAX_NESTING,
  type Kernel,
  KernelBuilder,
  type Type,
  type Value,
  bool,
  dtype,
  f16,
  f32,
  i32,
  kernelDifference,
  kernelsEqual,
  parseKernel,
  printKernel,
  scalarType,
  tensorType,
  verify,
} from '../../../compiler/ir/index.js';
import { ComposedLayout, Layout, Swizzle, registerLayout } from '../../../compiler/layout/index.js';

const cdiv = (a: GridExpr, b: GridExpr): GridExpr => ({ op: 'cdiv', args: [a, b] });

/** Shorthands over one builder, so the kernels below read like the programs they are. */
function ops(b: KernelBuilder) {
  const one = (opcode: Parameters<KernelBuilder['emit1']>[0], operands: Value[], attrs: Record<string, number | string | boolean | number[]> = {}) =>
    b.emit1(opcode, operands, attrs);
  return {
    one,
    konst: (value: number, d: string) => one('const', [], { value, dtype: d }),
    pid: (axis: number) => one('program_id', [], { axis }),
    arange: (end: number) => one('arange', [], { start: 0, end }),
    bcast: (x: Value, shape: number[]) => one('broadcast', [x], { shape }),
    view: (x: Value, shape: number[]) => one('view', [x], { shape }),
    dim: (t: Value, axis: number) => one('dim', [t], { axis }),
  };
}

/** z = x + y over cdiv(N, 128) blocks of 128, masked at the end. */
function vectorAdd(): Kernel {
  const b = new KernelBuilder('vadd', { BLOCK: 128 }, [cdiv('N', 128)]);
  const { one, konst, pid, arange, bcast, dim } = ops(b);
  const x = b.arg('x', tensorType(f32, ['N'], 'in'));
  const y = b.arg('y', tensorType(f32, ['N'], 'in'));
  const z = b.arg('z', tensorType(f32, ['N'], 'out'));
  const start = one('mul', [pid(0), konst(128, 'i32')]);
  const offs = one('add', [bcast(start, [128]), arange(128)]);
  const mask = one('lt', [offs, bcast(dim(x, 0), [128])]);
  const zero = bcast(konst(0, 'f32'), [128]);
  const sum = one('add', [one('load', [x, offs, mask, zero]), one('load', [y, offs, mask, zero])]);
  b.emit('store', [z, offs, sum, mask]);
  return b.finish();
}

/** One row of softmax per block: max, exp, sum, divide. */
function softmaxRow(): Kernel {
  const b = new KernelBuilder('softmax', { BLOCK_N: 256 }, ['M']);
  const { one, konst, pid, arange, bcast, dim } = ops(b);
  const x = b.arg('x', tensorType(f32, ['M', 'N'], 'in'));
  const y = b.arg('y', tensorType(f32, ['M', 'N'], 'out'));
  b.require({ rel: '<=', left: 'N', right: 256 });
  b.require({ rel: '==', left: { op: 'mul', args: ['M', 1] }, right: 'M' });
  b.require({ rel: '<=', left: 16, right: 256 }); // always true: left out
  const row = bcast(pid(0), [256]);
  const cols = arange(256);
  const ok = one('lt', [cols, bcast(dim(x, 1), [256])]);
  const t = one('load', [x, row, cols, ok, bcast(konst(-Infinity, 'f32'), [256])]);
  const m = one('reduce', [t], { kind: 'max', axis: 0 });
  const e = one('exp', [one('sub', [t, bcast(m, [256])])]);
  const s = one('reduce', [e], { kind: 'sum', axis: 0, keepDims: false });
  b.emit('store', [y, row, cols, one('div', [e, bcast(s, [256])]), ok]);
  return b.finish();
}

/** C = A @ B with a 64x64 f32 accumulator carried through a loop over K in steps of 32. */
function matmul(): Kernel {
  const b = new KernelBuilder('matmul', { BM: 64, BN: 64, BK: 32 }, [cdiv('M', 64), cdiv('N', 64)]);
  const { one, konst, pid, arange, bcast, view, dim } = ops(b);
  const A = b.arg('a', tensorType(f16, ['M', 'K'], 'in'));
  const B = b.arg('b', tensorType(f16, ['K', 'N'], 'in'));
  const C = b.arg('c', tensorType(f32, ['M', 'N'], 'out'));
  const block = (axis: number) => one('add', [bcast(one('mul', [pid(axis), konst(64, 'i32')]), [64]), arange(64)]);
  const [rows, cols] = [block(0), block(1)];
  const asRows = (v: Value, n: number, width: number) => bcast(view(v, [n, 1]), [n, width]);
  const asCols = (v: Value, n: number, height: number) => bcast(view(v, [1, n]), [height, n]);
  const acc0 = bcast(konst(0, 'f32'), [64, 64]);
  const [acc] = b.forLoop(konst(0, 'i32'), dim(A, 1), konst(32, 'i32'), [acc0], (k, carried) => {
    const ks = one('add', [bcast(k, [32]), arange(32)]);
    const a = one('load', [A, asRows(rows, 64, 32), asCols(ks, 32, 64)]);
    const bt = one('load', [B, asRows(ks, 32, 64), asCols(cols, 64, 32)]);
    return [one('dot', [a, bt, carried[0]!])];
  });
  b.emit('store', [C, asRows(rows, 64, 64), asCols(cols, 64, 64), acc!]);
  return b.finish();
}

/** if/else yielding a value, an if yielding nothing, and a for nested in an if. */
function branches(): Kernel {
  const b = new KernelBuilder('branches', {}, [4]);
  const { one, konst, pid, bcast } = ops(b);
  const out = b.arg('out', tensorType(f32, [4], 'out'));
  const n = b.arg('n', scalarType(i32));
  const scale = b.arg('scale', scalarType(f32));
  const p = pid(0);
  const small = one('lt', [p, n]);
  const [v] = b.ifElse(small, () => [konst(1.5, 'f32')], () => [one('mul', [scale, scale])]);
  b.ifElse(
    small,
    () => {
      b.emit('store', [out, bcast(p, [1]), bcast(v!, [1])]);
      return [];
    },
    () => [],
  );
  const [w] = b.ifElse(
    one('not', [small]),
    () => b.forLoop(konst(0, 'i32'), n, konst(1, 'i32'), [v!], (i, [acc]) => [one('add', [acc!, one('cast', [i], { dtype: 'f32' })])]),
    () => [v!],
  );
  b.emit('store', [out, bcast(p, [1]), bcast(w!, [1])]);
  return b.finish();
}

/**
 * Everything else: shared memory with a swizzled layout, barrier, cast to a low-bit float, bitcast,
 * where, permute, reshape, view, special constants, argmax, register layouts (one replicated), and
 * attribute values of every kind (a barrier keeps attributes its type rule does not read).
 */
function assorted(): Kernel {
  const grid: GridExpr[] = [{ op: 'max', args: [{ op: 'sub', args: ['M', 1] }, { op: 'min', args: [{ op: 'add', args: ['M', 2] }, { op: 'mul', args: [3, 'M'] }] }] }];
  const b = new KernelBuilder('assorted', { TILE: 16, EPS: 1e-5, NEG: -0, BIG: 1.5e300 }, grid);
  const { one, konst, arange, bcast, view } = ops(b);
  const x = b.arg('x', tensorType(f16, ['M', 32], 'in'));
  const out = b.arg('out', tensorType(dtype('i32'), ['M'], 'inout'));
  const rows = bcast(view(arange(16), [16, 1]), [16, 32]);
  const cols = bcast(view(arange(32), [1, 32]), [16, 32]);
  const [t] = b.emit('load', [x, rows, cols], {}, undefined, [registerLayout([16, 32], [16, 8, 4], [0, 1], [2])]);
  const swizzled = new ComposedLayout(new Swizzle(3, 3, 3), new Layout([16, 32], [32, 1]));
  const [s] = b.emit('alloc_shared', [], { dtype: 'f16', shape: [16, 32] }, undefined, [swizzled]);
  b.emit('store_shared', [s!, t!]);
  b.emit('barrier', [], {
    note: 'sync "all"\n\tthreads',
    stage: 2,
    final: true,
    word: 'sum',
    quotedInf: 'inf',
    quotedTrue: 'true',
    negZero: -0,
    tiny: 1e-5,
    huge: 1e21,
    list: [1, -2, 0.5, Infinity, -Infinity, NaN],
    empty: [],
  });
  const f = one('cast', [one('load_shared', [s!])], { dtype: 'f32' });
  const small = one('cast', [f], { dtype: 'f8e4m3' });
  const back = one('cast', [small], { dtype: 'f32' });
  const bits = one('bitcast', [back], { dtype: 'i32' });
  const negative = one('lt', [bits, bcast(konst(0, 'i32'), [16, 32])]);
  const w = one('where', [negative, f, bcast(konst(-Infinity, 'f32'), [16, 32])]);
  const nan = bcast(konst(NaN, 'f32'), [16, 32]);
  const picked = one('where', [one('eq', [w, w]), w, nan]);
  const p = one('permute', [picked], { perm: [1, 0] });
  const r = one('reshape', [p], { shape: [4, 8, 16] });
  const v = one('view', [r], { shape: [4, 1, 8, 16] });
  one('reduce', [v], { kind: 'min', axis: 3, keepDims: true });
  const am = one('reduce', [picked], { kind: 'argmax', axis: 1 });
  const [total] = b.emit('reduce', [one('cast', [am], { dtype: 'f32' })], { kind: 'sum', axis: 0 }, undefined, [registerLayout([], [], [-32], [])]);
  one('add', [total!, konst(-0, 'f32')]);
  one('mul', [konst(1e-5, 'f32'), konst(3.4e38, 'f32')]);
  one('and', [konst(15, 'u4'), konst(3, 'u4')]);
  one('or', [konst(1, 'bool'), one('cast', [konst(7, 'i32')], { dtype: 'bool' })]);
  b.emit('alloc_shared', [], { dtype: 'f32', shape: [8, 8] }, undefined, [new Layout([8, 8], [1, 8])]);
  b.emit('alloc_shared', [], { dtype: 'f32', shape: [8, 8] }, undefined, [new Layout([8, 8], [8, 1])]);
  b.emit('store', [out, arange(16), am]);
  b.emit('load', [out, arange(16)]);
  return b.finish();
}

const KERNELS: [string, () => Kernel][] = [
  ['vector add', vectorAdd],
  ['softmax row', softmaxRow],
  ['matmul with a for loop', matmul],
  ['if / else', branches],
  ['assorted ops, layouts and attributes', assorted],
];

describe('text form round trip', () => {
  test.each(KERNELS)('%s: parse(print(k)) equals k, prints the same and verifies', (_, build) => {
    const k = build();
    verify(k);
    const text = printKernel(k);
    const parsed = parseKernel(text);
    expect(kernelDifference(parsed, k)).toBeUndefined();
    expect(kernelsEqual(parsed, k)).toBe(true);
    expect(printKernel(parsed)).toBe(text);
    expect(() => verify(parsed)).not.toThrow();
  });

  test('the texts show what the kernels are made of', () => {
    expect(printKernel(vectorAdd())).toContain(') grid(cdiv(N, 128)) params(BLOCK = 128) {');
    expect(printKernel(softmaxRow())).toContain('{value = -inf, dtype = f32}');
    expect(printKernel(softmaxRow())).toContain(') grid(M) requires(N <= 256, mul(M, 1) == M) params(BLOCK_N = 256) {');
    expect(printKernel(matmul())).toMatch(/= for\(.*\) \{\n {2}\^\(%\d+: i32, %\d+: tile<f32>\[64, 64\]\):\n/);
    expect(printKernel(branches())).toContain('} else {');
    const assortedText = printKernel(assorted());
    for (const piece of ['#cute(Sw<3,3,3> o 0 o (16,32):(32,1))', '#reg([16,32], [16,8,4], [0,1], [2])', 'tile<f32>[] #reg([], [], [-32], [])', '{value = nan, dtype = f32}', 'quotedInf = "inf"', 'list = [1, -2, 0.5, inf, -inf, nan]', 'negZero = -0.0', 'huge = 1e+21', 'params(TILE = 16, EPS = 0.00001, NEG = -0.0, BIG = 1.5e+300)', '#cute((8,8):(8,1))']) {
      expect(assortedText).toContain(piece);
    }
  });

  test('kernels that differ only in their requirements differ', () => {
    const text = printKernel(softmaxRow());
    expect(kernelDifference(parseKernel(text), parseKernel(text.replace('N <= 256', 'N <= 128')))).toBe('requirements differ: (N <= 256, mul(M, 1) == M) vs (N <= 128, mul(M, 1) == M)');
  });

  test('layouts survive: the parsed result types carry equal layouts', () => {
    const parsed = parseKernel(printKernel(assorted()));
    const layouts = parsed.body.ops.flatMap((op) => op.results).map((r) => (r.type.kind === 'tile' ? r.type.layout : undefined));
    expect(layouts.filter((l) => l !== undefined)).toHaveLength(5);
  });

  test('attribute values keep their kind: NaN, -0, strings that look like keywords, lists', () => {
    const parsed = parseKernel(printKernel(assorted()));
    const barrier = parsed.body.ops.find((op) => op.opcode === 'barrier')!;
    expect(barrier.attrs).toEqual({
      note: 'sync "all"\n\tthreads',
      stage: 2,
      final: true,
      word: 'sum',
      quotedInf: 'inf',
      quotedTrue: 'true',
      negZero: -0,
      tiny: 1e-5,
      huge: 1e21,
      list: [1, -2, 0.5, Infinity, -Infinity, NaN],
      empty: [],
    });
    expect(Object.is(barrier.attrs['negZero'], -0)).toBe(true);
    expect(parsed.params).toEqual({ TILE: 16, EPS: 1e-5, NEG: -0, BIG: 1.5e300 });
  });
});

describe('hand-written text', () => {
  test('comments, blank lines, tabs and any value names are allowed', () => {
    const text = [
      '// vector add, by hand',
      'kernel @vadd(%x: in global<f32>[N], %y: in global<f32>[N], %z: out global<f32>[N]) // header',
      '    grid(cdiv(N, 128)) params(BLOCK = 128) {',
      '\t%pid = program_id() {axis = 0} : i32   // which block',
      '',
      '\t%c128 = const() {value = 128, dtype = i32} : i32',
      '\t%start = mul(%pid, %c128) : i32',
      '\t%s = broadcast(%start) {shape = [128]} : tile<i32>[128]',
      '\t%lane = arange() {start = 0, end = 128} : tile<i32>[128]',
      '\t%offs = add(%s, %lane) : tile<i32>[128]',
      '\t%n = dim(%x) {axis = 0} : i32',
      '\t%nb = broadcast(%n) {shape = [128]} : tile<i32>[128]',
      '\t%ok = lt(%offs, %nb) : tile<bool>[128]',
      '\t%zero = const() {value = 0, dtype = f32} : f32',
      '\t%zb = broadcast(%zero) {shape = [128]}  // no annotation: it is optional',
      '\t%a = load(%x, %offs, %ok, %zb) : tile<f32>[128]',
      '\t%b = load(%y, %offs, %ok, %zb) : tile<f32>[128]',
      '\t%sum = add(%a, %b) : tile<f32>[128]',
      '\tstore(%z, %offs, %sum, %ok)',
      '}',
      '// trailing comment',
    ].join('\n');
    expect(kernelDifference(parseKernel(text), vectorAdd())).toBeUndefined();
  });

  test('the whole kernel on one line', () => {
    const text = printKernel(matmul()).replace(/\s*\n\s*/g, ' ');
    expect(text).not.toContain('\n');
    expect(kernelDifference(parseKernel(text), matmul())).toBeUndefined();
  });

  test('words that are keywords elsewhere can name symbols and attributes', () => {
    const text = 'kernel @k(%x: in global<f32>[grid, tile]) grid(cdiv(grid, 4)) params(shared = 1) {\n  barrier() {kernel = else, in = global, params = out}\n}\n';
    const k = parseKernel(text);
    expect(k.args[0]!.type).toMatchObject({ shape: ['grid', 'tile'] });
    expect(k.body.ops[0]!.attrs).toEqual({ kernel: 'else', in: 'global', params: 'out' });
    expect(printKernel(k)).toBe(text);
  });

  test('attribute names of Object.prototype stay ordinary entries; such parameter names are refused', () => {
    const k = parseKernel('kernel @k() {\n  barrier() {__proto__ = 1, toString = x}\n}\n');
    expect(Object.keys(k.body.ops[0]!.attrs)).toEqual(['__proto__', 'toString']);
    expect(Object.getPrototypeOf(k.body.ops[0]!.attrs)).toBe(Object.prototype);
    // Launches and the CLI look parameters and extents up by name: these names are reserved.
    expect(() => parseKernel('kernel @k() params(constructor = 1) {\n}\n')).toThrow('parameter name "constructor" is reserved');
  });

  test('loops nested 64 deep, the most the builder allows, print and parse back', () => {
    const b = new KernelBuilder('deep');
    const n = b.arg('n', scalarType(i32));
    const zero = b.emit1('const', [], { value: 0, dtype: 'i32' });
    const one = b.emit1('const', [], { value: 1, dtype: 'i32' });
    const nest = (depth: number, acc: Value): Value[] =>
      depth === 0 ? [b.emit1('add', [acc, one])] : b.forLoop(zero, n, one, [acc], (_, [inner]) => nest(depth - 1, inner!));
    nest(MAX_NESTING, zero);
    const k = b.finish();
    expect(kernelDifference(parseKernel(printKernel(k)), k)).toBeUndefined();
  });

  test('an empty kernel', () => {
    const k = parseKernel('kernel @nothing() {}');
    expect(k).toMatchObject({ name: 'nothing', args: [], params: {}, grid: [] });
    expect(printKernel(k)).toBe('kernel @nothing() {\n}\n');
  });
});

describe('kernelsEqual', () => {
  const text = printKernel(softmaxRow());
  const changed = (from: string | RegExp, to: string): Kernel => {
    const t = text.replace(from, to);
    expect(t).not.toBe(text);
    return parseKernel(t);
  };

  test('a kernel equals itself and its rebuilt twin (values differ, structure does not)', () => {
    expect(kernelsEqual(softmaxRow(), softmaxRow())).toBe(true);
    expect(softmaxRow().body.ops[0]!.results[0]).not.toBe(softmaxRow().body.ops[0]!.results[0]);
  });

  test.each<[string, () => Kernel, RegExp]>([
    ['the name', () => changed('@softmax', '@softmin'), /kernel names differ/],
    ['a param', () => changed('BLOCK_N = 256', 'BLOCK_N = 512'), /param BLOCK_N differs: 512 vs 256/],
    ['the grid', () => changed('grid(M)', 'grid(N)'), /grids differ: \(N\) vs \(M\)/],
    ['an argument type', () => changed('%y: out global<f32>[M, N]', '%y: inout global<f32>[M, N]'), /argument y: types differ/],
    ['an attribute', () => changed('{kind = sum, axis = 0, keepDims = false}', '{kind = sum, axis = 0}'), /op 13 \(reduce\): attribute keepDims differs: \(absent\) vs false/],
    ['a constant', () => changed('value = -inf', 'value = inf'), /op 6 \(const\): attribute value differs: inf vs -inf/],
    ['an opcode', () => changed('exp(', 'exp2('), /opcodes differ: exp2 vs exp/],
    ['operand wiring', () => changed(/sub\((%\d+), (%\d+)\)/, 'sub($1, $1)'), /op \d+ \(sub\): operand 1 is not the corresponding value/],
  ])('tells %s apart', (_, other, message) => {
    const diff = kernelDifference(other(), softmaxRow());
    expect(diff).toMatch(message);
    expect(kernelsEqual(other(), softmaxRow())).toBe(false);
  });

  test('compares layouts with equals and attributes regardless of order', () => {
    const base = printKernel(assorted());
    const moved = base.replace('#reg([16,32], [16,8,4], [0,1], [2])', '#reg([16,32], [16,8,4], [1,0], [2])');
    expect(kernelDifference(parseKernel(moved), assorted())).toMatch(/result 0: types differ: tile<f16>\[16, 32\] #reg/);
    const reordered = base.replace('{start = 0, end = 16}', '{end = 16, start = 0}');
    expect(reordered).not.toBe(base);
    expect(kernelsEqual(parseKernel(reordered), assorted())).toBe(true);
  });

  test('a missing op and a region difference are found where they are', () => {
    const withoutStore = printKernel(vectorAdd()).replace(/\n {2}store\([^\n]*/, '');
    expect(kernelDifference(parseKernel(withoutStore), vectorAdd())).toMatch(/body: the first has \d+ ops, the second more \(next: store\)/);
    const shifted = printKernel(matmul()).replace('{start = 0, end = 32}', '{start = 1, end = 33}');
    expect(kernelDifference(parseKernel(shifted), matmul())).toMatch(/^body, op \d+ \(for\), region 0, op \d+ \(arange\): attribute start differs: 1 vs 0$/);
  });
});

describe('mutated texts', () => {
  const texts = KERNELS.map(([, build]) => printKernel(build()));
  const pieces = ['(', ')', '{', '}', '[', ']', '<', '>', ',', ':', '=', '^', '-', '%', '%0', '%999', '#reg(', '#cute(', '"', '\\', '1e', 'inf', 'nan',
    'for', 'if', 'else', 'yield', 'tile', 'global', 'f32', 'i32', 'bool', '//', '\n', ' ', '$', 'é', '@k'];
  const mutation = fc.record({
    at: fc.nat(),
    cut: fc.integer({ min: 0, max: 12 }),
    insert: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })),
  });

  test('either parse to a kernel that verifies and round-trips, or throw one positioned IrError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, mutations) => {
        let t = text;
        for (const m of mutations) {
          const at = m.at % (t.length + 1);
          t = t.slice(0, at) + m.insert + t.slice(at + m.cut);
        }
        let k: Kernel;
        try {
          k = parseKernel(t);
        } catch (e) {
          expect(e).toBeInstanceOf(IrError);
          expect((e as Error).message).toMatch(/^<ir>:\d+:\d+: /);
          expect((e as Error).message).not.toContain('internal error');
          return;
        }
        verify(k);
        expect(printKernel(parseKernel(printKernel(k)))).toBe(printKernel(k));
      }),
      { numRuns: 1500 },
    );
  });

  test('random strings throw IrError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        expect(() => parseKernel(s)).toThrow(IrError);
        try {
          parseKernel(`kernel @k() {\n${s}\n}`);
        } catch (e) {
          expect(e).toBeInstanceOf(IrError);
          expect((e as Error).message).not.toContain('internal error');
        }
      }),
      { numRuns: 500 },
    );
  });
});

// Keep the imports honest: the dtype constants are the objects dtype() returns.
test('dtype constants are the interned dtypes', () => {
  const types: Type[] = [scalarType(bool), scalarType(dtype('bool'))];
  expect(types[0]!.dtype).toBe(types[1]!.dtype);
});
