import { walkOps } from '../../compiler/ir/ir.js';
import { printKernel } from '../../compiler/ir/printer.js';
import { hostTensor, interpret } from '../../compiler/interpret/index.js';
import { arange, atMost, cdiv, equal, exp, f16, f32, gridMul, input, kernel, load, output, programId, scalar, store, where } from '../../dsl/index.js';
import { softmax } from '../../examples/softmax.js';
import { vectorAdd } from '../../examples/vector-add.js';

const opcodes = (k: ReturnType<typeof softmax.build>) => {
  const ops: string[] = [];
  walkOps(k.body, (op) => ops.push(op.opcode));
  return ops;
};

describe('kernel()', () => {
  test('traces the softmax of the issue into explicit IR', () => {
    const k = softmax.build();
    expect(k.name).toBe('softmax');
    expect(k.args.map((a) => a.name)).toEqual(['x', 'y']);
    expect(k.params).toEqual({ BLOCK_N: 1024 });
    expect(k.grid).toEqual(['M']);
    expect(k.requires).toEqual([{ rel: '<=', left: 'N', right: 1024 }]); // the row-length guard
    // The row index, the fill value and the scalar max and sum are broadcast explicitly.
    expect(opcodes(k)).toEqual([
      'program_id', 'arange', 'dim', 'broadcast', 'lt', 'broadcast', 'const', 'broadcast', 'load',
      'reduce', 'broadcast', 'sub', 'exp', 'reduce', 'broadcast', 'div', 'broadcast', 'store',
    ]);
    expect(printKernel(k)).toContain('kernel @softmax(%x: in global<f32>[M, N], %y: out global<f32>[M, N]) grid(M) requires(N <= 1024) params(BLOCK_N = 1024) {');
  });

  test('parameters specialize the kernel and builds are cached per parameter set', () => {
    const a = vectorAdd.build();
    expect(vectorAdd.build()).toBe(a);
    const b = vectorAdd.build({ BLOCK: 128 });
    expect(b).not.toBe(a);
    expect(b.params).toEqual({ BLOCK: 128 });
    expect(b.grid).toEqual([{ op: 'cdiv', args: ['N', 128] }]);
    expect(printKernel(b)).toContain('arange() {start = 0, end = 128} : tile<i32>[128]');
  });

  test('numbers take the dtype of the tile they meet; scalar arguments are rank-0 tiles', () => {
    const scale = kernel('scale', { x: input(f16, ['N']), y: output(f16, ['N']), s: scalar(f16) }, ({ x, y, s }) => {
      const i = arange(64);
      const ok = i.lt(x.dim(0));
      store(y, [i], where(ok, load(x, [i], { mask: ok }).mul(s).add(0.5), 0), { mask: ok });
    }, { grid: () => [1] });
    const x = hostTensor(f16, [50], Array.from({ length: 50 }, (_, i) => i / 8));
    const y = hostTensor(f16, [50]);
    interpret(scale.build(), { x, y, s: 3 });
    expect(Array.from(y.data)).toEqual(Array.from({ length: 50 }, (_, i) => (i / 8) * 3 + 0.5));
  });

  test('grid helpers fold constants and keep symbols', () => {
    expect(cdiv(1000, 128)).toBe(8);
    expect(cdiv('N', 128)).toEqual({ op: 'cdiv', args: ['N', 128] });
  });

  test('a 2-D kernel mixing reductions with keepDims and broadcasting', () => {
    const rowMax = kernel('row_softmax_2d', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }, { BM, BN }) => {
      const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1);
      const cols = arange(BN).expandDims(0);
      const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
      const t = load(x, [rows, cols], { mask: ok, other: -Infinity });
      const e = exp(t.sub(t.max(1, { keepDims: true })));
      store(y, [rows, cols], e.div(e.sum(1, { keepDims: true })), { mask: ok });
    }, { params: { BM: 4, BN: 16 }, grid: ({ M }, { BM }) => [cdiv(M, BM)] });
    const [m, n] = [10, 13];
    const x = hostTensor(f32, [m, n], Array.from({ length: m * n }, () => Math.random() * 4));
    const y = hostTensor(f32, [m, n]);
    interpret(rowMax.build(), { x, y });
    for (let i = 0; i < m; i++) {
      const row = Array.from(x.data.subarray(i * n, (i + 1) * n));
      const mx = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - mx), 0);
      row.forEach((v, j) => expect(y.data[i * n + j]).toBeCloseTo(Math.exp(v - mx) / s, 6));
    }
  });

  test('requirements are checked at launch with the extents they name, a zero divisor included', () => {
    const k = kernel('z', { x: input(f32, ['M', 'N']), y: output(f32, ['M']) }, ({ y }) => store(y, [programId(0)], 0), {
      grid: ({ M }) => [M],
      requires: ({ M, N }) => [atMost(1, cdiv(M, N)), equal(M, gridMul(N, 2))],
    }).build();
    const args = (m: number, n: number) => ({ x: hostTensor(f32, [m, n], new Float64Array(m * n)), y: hostTensor(f32, [m], new Float64Array(m)) });
    expect(() => interpret(k, args(2, 1))).not.toThrow();
    expect(() => interpret(k, args(2, 0))).toThrow('kernel z: requirement 1 <= cdiv(M, N): cdiv(M, N) divides by N = 0');
    expect(() => interpret(k, args(4, 1))).toThrow('kernel z: its extents must satisfy M == mul(N, 2), but M = 4 (from x) and N = 1 (from x): 4 != 2');
  });
});
