/**
 * Prefetches of the next block's row on the C backend (backends/c/emit.ts: nextRowMarks,
 * nextRowPrefetches). A row read in place from its tensor, at an address that moves with the program
 * id, is prefetched one row ahead in the last plain loop of the block that reads it, and in a
 * streaming store when that reads it last (a branch that runs only for large outputs); rows every
 * block reads (a norm's weight) are not. Prefetches change no value, and the library kernels'
 * differential tests compile and run every kernel here; these tests check where the prefetches are.
 */
import { emitC } from '../../../backends/c/index.js';
import { arange, f32, input, kernel, load, output, store } from '../../../dsl/index.js';
import { logSoftmaxRows, softmaxRows } from '../../../kernels/rows/softmax.js';
import { layerNormRows, rmsNormRows } from '../../../kernels/rows/norms.js';
import { swigluRows } from '../../../kernels/rows/glu.js';
import { crossEntropyRows } from '../../../kernels/rows/cross-entropy.js';

/**
 * The lines of `source` that prefetch a row, and the rows they prefetch; with `plain`, only those
 * outside the streaming stores' `#ifdef TSKC_STREAM` branches, which run whatever the output's size.
 */
function prefetches(source: string, plain = false): { lines: string[]; rows: Set<string> } {
  const text = plain ? source.replace(/#ifdef TSKC_STREAM\n[\s\S]*?#endif/g, '') : source;
  const lines = text.split('\n').filter((l) => l.includes('TSKC_PREFETCH_L2(row'));
  return { lines, rows: new Set(lines.flatMap((l) => [...l.matchAll(/TSKC_PREFETCH_L2\((row\d+_address)/g)].map((m) => m[1]!))) };
}

const library = {
  softmax: softmaxRows(f32).build({ BLOCK_N: 4096 }),
  'log-softmax': logSoftmaxRows(f32).build({ BLOCK_N: 4096 }),
  'RMS norm': rmsNormRows(f32).build({ BLOCK_N: 4096, EPS: 1e-6 }),
  'layer norm': layerNormRows(f32).build({ BLOCK_N: 4096, EPS: 1e-5 }),
  SwiGLU: swigluRows(f32).build({ BLOCK_N: 4096 }),
};

describe('next-row prefetches on the C backend', () => {
  test('softmax prefetches its row in the exp pass, after the max pass has read it', () => {
    const source = emitC(library.softmax).source;
    const { lines, rows } = prefetches(source);
    expect(rows.size).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tskc_expf/);
    // A line of f32 per prefetch: two in each chunk of 32 elements, the row's 16 KiB ahead.
    expect(lines[0]).toMatch(/TSKC_PREFETCH_L2\(row\d+_address, 16384 \+ \(e0\) \* sizeof \*row\d+_source\); TSKC_PREFETCH_L2\(row\d+_address, 16384 \+ \(e0 \+ 16\)/);
  });

  test('a chunk copied into its tile (masked past the end of a row) prefetches from the tensor, not past the tile', () => {
    // Cross-entropy walks each row in chunks; at V = 32000 the last chunk of 4096 is copied, and its
    // prefetches went past the tile (cross-entropy 1024x32000: 13% slower than in chunks of 4000, 7% since).
    const source = emitC(crossEntropyRows(f32).build({ BLOCK_V: 4096 })).source;
    const [address] = prefetches(source).rows;
    const id = /row(\d+)_address/.exec(address!)![1];
    expect(source).toMatch(new RegExp(`const float \\*const row${id}_source = row${id} \\? \\(const float \\*\\)a0 \\+ .* : v\\d+;`));
    expect(source).toMatch(new RegExp(`const uintptr_t row${id}_address = \\(uintptr_t\\)a0 \\+ `));
  });

  test.each(Object.entries(library))('%s leaves no mark in its source', (_, built) => {
    expect(emitC(built).source).not.toMatch(/@next-row/);
  });

  test.each([['RMS norm'], ['layer norm']] as const)('%s prefetches x, not its weight rows, which every block reads', (name) => {
    expect(prefetches(emitC(library[name]).source).rows.size).toBe(1);
  });

  test.each([['RMS norm'], ['log-softmax']] as const)('%s prefetches x outside its streaming store too, where it reads x last', (name) => {
    const source = emitC(library[name]).source;
    expect(prefetches(source).lines).toHaveLength(2);
    expect(prefetches(source, true).rows.size).toBe(1);
  });

  test('SwiGLU, which reads its rows only in its streaming store, prefetches both there', () => {
    const source = emitC(library.SwiGLU).source;
    expect(prefetches(source).rows.size).toBe(2);
    expect(prefetches(source, true).rows.size).toBe(0);
  });

  test('a row at the same address in every block is not prefetched', () => {
    const same = kernel('same_row', { x: input(f32, [4096]), y: output(f32, [4096]) }, ({ x, y }) => {
      const t = load(x, [arange(4096)]);
      store(y, [arange(4096)], t.mul(t.max(0)));
    }, { grid: () => [1] });
    const source = emitC(same.build()).source;
    expect(source).toMatch(/row\d+_source/);
    expect(prefetches(source).lines).toHaveLength(0);
  });
});
