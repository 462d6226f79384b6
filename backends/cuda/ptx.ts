/**
 * The inline PTX the generated CUDA uses, as macros: each is defined in the source where a kernel uses
 * it, inside #ifndef, so that tests/backends/cuda/emulator can define its own first and run the same
 * source on the CPU. A macro is its name and its definition; CudaEmitter.macro puts the definition in
 * the source once and writes the name.
 */
import { type MmaFormat, mmaK } from './mma.js';

export type PtxMacro = readonly [name: string, definition: string];

const defined = (name: string, body: readonly string[]): PtxMacro => [name, [`#ifndef ${name}`, ...body, '#endif'].join('\n')];

/**
 * One mma.sync on operands of `format`, m16n8k16 (m16n8k8 for tf32): (c0..c3 in and out, a0..a3, b0,
 * b1), the C, A and B fragments as CudaEmitter.mmaDot describes them.
 */
export function mmaMacro(format: MmaFormat): PtxMacro {
  const shape = `M16N8K${mmaK(format)}`;
  const name = `TSKC_MMA_${shape}_${format.toUpperCase()}`;
  return defined(name, [
    `#define ${name}(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1) asm volatile("mma.sync.aligned.${shape.toLowerCase()}.row.col.f32.${format}.${format}.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};" \\`,
    '  : "+f"(c0), "+f"(c1), "+f"(c2), "+f"(c3) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1))',
  ]);
}

/** The bits of an f32 rounded to tf32 as cvt.rna.tf32.f32 rounds them (to nearest, ties away from zero, 13 low bits cleared). */
export function tf32RoundMacro(): PtxMacro {
  const name = 'TSKC_TF32_RNA';
  return defined(name, [
    'static __device__ __forceinline__ uint32_t tskc_tf32_rna(uint32_t bits) { uint32_t r; asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(__uint_as_float(bits))); return r; }',
    `#define ${name}(bits) tskc_tf32_rna(bits)`,
  ]);
}

/**
 * ldmatrix.sync.aligned.m8n8.x4 (r0..r3 out, this lane's row pointer into shared memory, 16-byte
 * aligned); with `trans` its .trans form (lane 4g + t receives, from each 8 x 8 block, the codes at rows
 * 2t and 2t + 1 of column g).
 */
export function ldmatrixMacro(trans = false): PtxMacro {
  const name = `TSKC_LDMATRIX_X4${trans ? '_TRANS' : ''}`;
  return defined(name, [
    `#define ${name}(r0, r1, r2, r3, row) asm volatile("{ .reg .u64 s; cvta.to.shared.u64 s, %4; ldmatrix.sync.aligned.m8n8.x4${trans ? '.trans' : ''}.shared.b16 {%0, %1, %2, %3}, [s]; }" \\`,
    '  : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "l"(row))',
  ]);
}

/**
 * A cp.async: cg16 (dst, src) copies 16 bytes past L1; ca (dst, src, bytes) 4 or 8; commit () closes
 * this thread's group of copies; wait (n) waits until at most n of its groups are in flight.
 */
export function cpAsyncMacro(kind: 'cg16' | 'ca' | 'commit' | 'wait'): PtxMacro {
  const name = `TSKC_CP_ASYNC_${kind.toUpperCase()}`;
  const definition = {
    cg16: '(dst, src) asm volatile("{ .reg .u64 s; cvta.to.shared.u64 s, %0; cp.async.cg.shared.global [s], [%1], 16; }" :: "l"(dst), "l"(src) : "memory")',
    ca: '(dst, src, bytes) asm volatile("{ .reg .u64 s; cvta.to.shared.u64 s, %0; cp.async.ca.shared.global [s], [%1], %2; }" :: "l"(dst), "l"(src), "n"(bytes) : "memory")',
    commit: '() asm volatile("cp.async.commit_group;" ::: "memory")',
    wait: '(n) asm volatile("cp.async.wait_group %0;" :: "n"(n) : "memory")',
  }[kind];
  return defined(name, [`#define ${name}${definition}`]);
}
