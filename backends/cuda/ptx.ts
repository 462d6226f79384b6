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
 * The 32-bit shared-window address of a generic pointer into shared memory, as the .shared operands of
 * ldmatrix and cp.async take it. Converted outside the asm (__cvta_generic_to_shared, NVRTC 11.2 on),
 * the compiler sees the address as the block's shared base plus an offset and keeps the offsets in
 * 32 bits: a cvta inside each asm hid that, and the 128x128x32 bf16 matmul's loop carried a 64-bit
 * address and a cvta per ldmatrix and cp.async (ptxas, sm_90: 237 registers, 205 with these).
 */
const SHARED_ADDRESS = (pointer: string) => `(unsigned)__cvta_generic_to_shared(${pointer})`;

/**
 * ldmatrix.sync.aligned.m8n8.x4 (r0..r3 out, this lane's row pointer into shared memory, 16-byte
 * aligned); with `trans` its .trans form (lane 4g + t receives, from each 8 x 8 block, the codes at rows
 * 2t and 2t + 1 of column g).
 */
export function ldmatrixMacro(trans = false): PtxMacro {
  const name = `TSKC_LDMATRIX_X4${trans ? '_TRANS' : ''}`;
  return defined(name, [
    `#define ${name}(r0, r1, r2, r3, row) asm volatile("ldmatrix.sync.aligned.m8n8.x4${trans ? '.trans' : ''}.shared.b16 {%0, %1, %2, %3}, [%4];" \\`,
    `  : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(${SHARED_ADDRESS('row')}))`,
  ]);
}

/**
 * A cp.async: cg16 (dst, src) copies 16 bytes past L1; ca (dst, src, bytes) 4 or 8; commit () closes
 * this thread's group of copies; wait (n) waits until at most n of its groups are in flight.
 */
export function cpAsyncMacro(kind: 'cg16' | 'ca' | 'commit' | 'wait'): PtxMacro {
  const name = `TSKC_CP_ASYNC_${kind.toUpperCase()}`;
  const definition = {
    cg16: `(dst, src) asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(${SHARED_ADDRESS('dst')}), "l"(src) : "memory")`,
    ca: `(dst, src, bytes) asm volatile("cp.async.ca.shared.global [%0], [%1], %2;" :: "r"(${SHARED_ADDRESS('dst')}), "l"(src), "n"(bytes) : "memory")`,
    commit: '() asm volatile("cp.async.commit_group;" ::: "memory")',
    wait: '(n) asm volatile("cp.async.wait_group %0;" :: "n"(n) : "memory")',
  }[kind];
  return defined(name, [`#define ${name}${definition}`]);
}
