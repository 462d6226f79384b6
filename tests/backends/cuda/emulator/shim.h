/*
 * Just enough of CUDA for the CUDA backend's generated source to compile as C++ and run on the CPU
 * (tests/backends/cuda/emulator/emulate.ts force-includes this before it): each thread of a block is an
 * OS thread, __syncthreads a barrier of the block's threads, a warp's shuffles and tensor-core mma an
 * exchange among its 32 threads (ldmatrix too), cp.async a copy that lands at its wait. mma.sync.m16n8k16 is computed from the PTX ISA's fragment
 * definitions (lane 4g + t; A row-major 16 x 16, B 16 x 8 by columns, C and D 16 x 8, two 16-bit codes
 * to a register, the lower index in the low half), its products summed in double: the hardware's order
 * and rounding differ, within the tolerance a tensor-core dot is compared with.
 */
#pragma once
#include <barrier>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(threads, blocks)
#define __align__(bytes)
#define __shared__

struct Dim3 { unsigned x, y, z; };
extern unsigned char tskc_smem[];
extern const size_t tskc_smem_bytes;
extern thread_local Dim3 threadIdx;
extern Dim3 blockIdx, gridDim;

/** The running block's barrier, and one exchange area and barrier per warp. */
struct Warp {
  std::barrier<> arrive{32};
  double values[32];
  uint32_t fragments[32][6];
  float accumulators[32][4];
  const unsigned char *rows[32];
};
extern std::barrier<> *tskc_block_barrier;
extern std::vector<Warp *> tskc_warps;

/**
 * Races between cp.async and ldmatrix, found whatever the threads' timing: every 16-byte chunk of
 * shared memory records the barrier interval (a thread's count of __syncthreads, the same for all of a
 * block's threads between two barriers) in which an ldmatrix last read it and a cp.async last wrote
 * it. A copy into a chunk read in the same interval (another thread may still be reading it), or a read
 * of a chunk copied in the same interval (the copy may not have landed for the reader), is a race on
 * the GPU; the emulator aborts naming it. Reset for each block.
 */
extern thread_local int tskc_interval;
extern int *tskc_chunk_read, *tskc_chunk_copied;
static inline void tskc_race(const char *what, const void *at) {
  fprintf(stderr, "tskc emulator: race in shared memory at byte %ld: %s\n", (long)((const unsigned char *)at - tskc_smem), what);
  abort();
}
/** Marks chunk c as `kind`'s in this thread's interval, as the later of the two intervals if another thread marked it. */
static inline void tskc_mark(int *kind, size_t c) {
  int seen = __atomic_load_n(&kind[c], __ATOMIC_SEQ_CST);
  while (seen < tskc_interval && !__atomic_compare_exchange_n(&kind[c], &seen, tskc_interval, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
}

static inline void __syncthreads() { tskc_block_barrier->arrive_and_wait(); tskc_interval++; }

static inline float __int_as_float(int x) { float f; memcpy(&f, &x, 4); return f; }
static inline float __uint_as_float(unsigned x) { float f; memcpy(&f, &x, 4); return f; }
static inline unsigned __float_as_uint(float x) { unsigned u; memcpy(&u, &x, 4); return u; }
static inline double __longlong_as_double(long long x) { double d; memcpy(&d, &x, 8); return d; }
static inline long long __double_as_longlong(double x) { long long u; memcpy(&u, &x, 8); return u; }
static inline unsigned atomicAnd(unsigned *p, unsigned v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned atomicOr(unsigned *p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long expected, unsigned long long v) {
  __atomic_compare_exchange_n(p, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}
struct uint4 { unsigned x, y, z, w; };
struct uint2 { unsigned x, y; };

/** v from the lane `lane ^ mask` of this thread's warp (every value the kernels shuffle fits a double). */
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int mask) {
  Warp &w = *tskc_warps[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  w.values[lane] = (double)v;
  w.arrive.arrive_and_wait();
  const T other = (T)w.values[lane ^ mask];
  w.arrive.arrive_and_wait();
  return other;
}

static inline float tskc_emulated_bf16(uint32_t code) { return __uint_as_float((code & 0xffffu) << 16); }
static inline float tskc_emulated_f16(uint32_t code) {
  const int sign = (code >> 15) & 1, exponent = (code >> 10) & 31, mantissa = code & 1023;
  const float v = exponent == 0 ? ldexpf((float)mantissa, -24) : exponent == 31 ? (mantissa ? NAN : INFINITY) : ldexpf((float)(mantissa | 1024), exponent - 25);
  return sign ? -v : v;
}

/**
 * One mma.sync of the warp with K columns of A (16 x K, B K x 8, C and D 16 x 8): every lane brings its
 * six fragment registers and four accumulators; place(g, t, registers, A, B) puts lane 4g + t's into
 * A and B; then each lane takes its D, the products summed in double.
 */
template <int K, class Place> static inline void tskc_emulated_warp_mma(float &c0, float &c1, float &c2, float &c3, const uint32_t (&mine)[6], Place place) {
  Warp &w = *tskc_warps[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  memcpy(w.fragments[lane], mine, sizeof mine);
  const float acc[4] = { c0, c1, c2, c3 };
  memcpy(w.accumulators[lane], acc, sizeof acc);
  w.arrive.arrive_and_wait();
  float A[16][K], B[K][8], C[16][8];
  for (int l = 0; l < 32; l++) {
    place(l >> 2, l & 3, w.fragments[l], A, B);
    for (int s = 0; s < 4; s++) C[(l >> 2) + 8 * (s >> 1)][2 * (l & 3) + (s & 1)] = w.accumulators[l][s];
  }
  float d[4];
  const int g = lane >> 2, t = lane & 3;
  for (int s = 0; s < 4; s++) {
    const int row = g + 8 * (s >> 1), col = 2 * t + (s & 1);
    double sum = C[row][col];
    for (int q = 0; q < K; q++) sum += (double)A[row][q] * B[q][col];
    d[s] = (float)sum;
  }
  w.arrive.arrive_and_wait();
  c0 = d[0], c1 = d[1], c2 = d[2], c3 = d[3];
}

/** mma.sync.m16n8k16.row.col.f32 on bf16 (or f16) codes, two to a register, the lower index in the low half. */
template <bool F16> static inline void tskc_emulated_mma(float &c0, float &c1, float &c2, float &c3, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0, uint32_t b1) {
  const auto low = [](uint32_t r) { return F16 ? tskc_emulated_f16(r & 0xffffu) : tskc_emulated_bf16(r); };
  const auto high = [&](uint32_t r) { return low(r >> 16); };
  tskc_emulated_warp_mma<16>(c0, c1, c2, c3, { a0, a1, a2, a3, b0, b1 }, [&](int g, int t, const uint32_t *f, float (&A)[16][16], float (&B)[16][8]) {
    for (int r = 0; r < 4; r++) {
      const int row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1);
      A[row][col] = low(f[r]);
      A[row][col + 1] = high(f[r]);
    }
    for (int r = 0; r < 2; r++) {
      B[2 * t + 8 * r][g] = low(f[4 + r]);
      B[2 * t + 8 * r + 1][g] = high(f[4 + r]);
    }
  });
}

/**
 * cvt.rna.tf32.f32 on the bits of an f32: to nearest with ties away from zero (the magnitude's bits
 * rounded up at half of the 13th bit), the 13 low bits cleared; infinities and NaNs kept.
 */
static inline uint32_t tskc_emulated_tf32_rna(uint32_t bits) {
  if ((bits & 0x7f800000u) == 0x7f800000u) return bits;
  return (bits + 0x1000u) & ~0x1fffu;
}

/**
 * One mma.sync.m16n8k8.row.col.f32.tf32.tf32.f32 of the warp: A 16 x 8 with a0 to a3 at (g, t),
 * (g + 8, t), (g, t + 4), (g + 8, t + 4); B 8 x 8 with b0, b1 at (t, g), (t + 4, g); C as m16n8k16's.
 * The hardware reads 19 bits of each operand: the 13 low bits are dropped here (not rounded), so that
 * an operand the kernel forgot to round shows; a NaN stays a NaN (its payload may lie in those bits).
 */
static inline void tskc_emulated_mma_tf32(float &c0, float &c1, float &c2, float &c3, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0, uint32_t b1) {
  const auto value = [](uint32_t r) { return (r & 0x7f800000u) == 0x7f800000u ? __uint_as_float(r) : __uint_as_float(r & ~0x1fffu); };
  tskc_emulated_warp_mma<8>(c0, c1, c2, c3, { a0, a1, a2, a3, b0, b1 }, [&](int g, int t, const uint32_t *f, float (&A)[16][8], float (&B)[8][8]) {
    for (int r = 0; r < 4; r++) A[g + 8 * (r & 1)][t + 4 * (r >> 1)] = value(f[r]);
    for (int r = 0; r < 2; r++) B[t + 4 * r][g] = value(f[4 + r]);
  });
}

/**
 * ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8i to 8i + 7 point at the 8 rows (16 bytes each) of
 * matrix i; lane 4g + t receives, from each matrix, the two codes at row g, columns 2t and 2t + 1, or
 * with .trans (`trans`) those at rows 2t and 2t + 1 of column g, the lower row in the low half.
 */
static inline void tskc_emulated_ldmatrix_x4(uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3, const void *row, bool trans) {
  Warp &w = *tskc_warps[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  w.rows[lane] = (const unsigned char *)row;
  // Each row is 16 aligned bytes of shared memory: the hardware faults on others.
  if ((uintptr_t)row % 16 != 0 || (const unsigned char *)row < tskc_smem || (const unsigned char *)row + 16 > tskc_smem + tskc_smem_bytes) {
    fprintf(stderr, "tskc emulator: ldmatrix row at %p: %s\n", row, (uintptr_t)row % 16 != 0 ? "not 16-byte aligned" : "not in shared memory");
    abort();
  }
  const size_t c = ((const unsigned char *)row - tskc_smem) / 16;
  if (__atomic_load_n(&tskc_chunk_copied[c], __ATOMIC_SEQ_CST) == tskc_interval) tskc_race("ldmatrix of a chunk a cp.async wrote since the last barrier", row);
  tskc_mark(tskc_chunk_read, c);
  w.arrive.arrive_and_wait();
  uint32_t r[4];
  const int g = lane / 4, t = lane % 4;
  for (int i = 0; i < 4; i++) {
    if (!trans) {
      memcpy(&r[i], w.rows[8 * i + g] + 4 * t, 4);
      continue;
    }
    uint16_t low, high;
    memcpy(&low, w.rows[8 * i + 2 * t] + 2 * g, 2);
    memcpy(&high, w.rows[8 * i + 2 * t + 1] + 2 * g, 2);
    r[i] = (uint32_t)low | ((uint32_t)high << 16);
  }
  w.arrive.arrive_and_wait();
  r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
}

/**
 * cp.async: a copy is queued in this thread's open group and lands only when a wait_group lets it,
 * its destination meanwhile poisoned (0xff bytes, a NaN in every 16-bit format): a read of a stage
 * before its wait and barrier, or a copy into a stage another thread still reads, shows in the results.
 */
struct TskcCopy { void *dst; const void *src; int bytes; };
extern thread_local std::vector<std::vector<TskcCopy>> tskc_copy_groups;
extern thread_local std::vector<TskcCopy> tskc_open_copies;
/** cp.async's own rules, which the hardware faults on: 4, 8 or 16 bytes (16 for .cg), both addresses aligned to the size, the destination in shared memory. */
static inline void tskc_emulated_cp_async(void *dst, const void *src, int bytes, bool cg) {
  const bool size = cg ? bytes == 16 : bytes == 4 || bytes == 8 || bytes == 16;
  const bool aligned = (uintptr_t)dst % bytes == 0 && (uintptr_t)src % bytes == 0;
  const bool shared = (unsigned char *)dst >= tskc_smem && (unsigned char *)dst + bytes <= tskc_smem + tskc_smem_bytes;
  if (!size || !aligned || !shared) {
    fprintf(stderr, "tskc emulator: cp.async of %d bytes from %p to %p: %s\n", bytes, src, dst, !size ? "not a size it copies" : !aligned ? "misaligned" : "not into shared memory");
    abort();
  }
  for (size_t c = ((unsigned char *)dst - tskc_smem) / 16; c <= ((unsigned char *)dst + bytes - 1 - tskc_smem) / 16; c++) {
    if (__atomic_load_n(&tskc_chunk_read[c], __ATOMIC_SEQ_CST) == tskc_interval) tskc_race("cp.async into a chunk an ldmatrix read since the last barrier", dst);
    tskc_mark(tskc_chunk_copied, c);
  }
  memset(dst, 0xff, bytes);
  tskc_open_copies.push_back({ dst, src, bytes });
}
static inline void tskc_emulated_cp_async_commit() {
  tskc_copy_groups.push_back(tskc_open_copies);
  tskc_open_copies.clear();
}
static inline void tskc_emulated_cp_async_wait(size_t pending) {
  while (tskc_copy_groups.size() > pending) {
    for (const TskcCopy &c : tskc_copy_groups.front()) memcpy(c.dst, c.src, c.bytes);
    tskc_copy_groups.erase(tskc_copy_groups.begin());
  }
}

#define TSKC_CP_ASYNC_CG16(dst, src) tskc_emulated_cp_async(dst, src, 16, true)
#define TSKC_CP_ASYNC_CA(dst, src, bytes) tskc_emulated_cp_async(dst, src, bytes, false)
#define TSKC_CP_ASYNC_COMMIT() tskc_emulated_cp_async_commit()
#define TSKC_CP_ASYNC_WAIT(n) tskc_emulated_cp_async_wait(n)
#define TSKC_LDMATRIX_X4(r0, r1, r2, r3, row) tskc_emulated_ldmatrix_x4(r0, r1, r2, r3, row, false)
#define TSKC_LDMATRIX_X4_TRANS(r0, r1, r2, r3, row) tskc_emulated_ldmatrix_x4(r0, r1, r2, r3, row, true)
#define TSKC_MMA_M16N8K16_BF16(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1) tskc_emulated_mma<false>(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1)
#define TSKC_MMA_M16N8K16_F16(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1) tskc_emulated_mma<true>(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1)
#define TSKC_MMA_M16N8K8_TF32(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1) tskc_emulated_mma_tf32(c0, c1, c2, c3, a0, a1, a2, a3, b0, b1)
#define TSKC_TF32_RNA(bits) tskc_emulated_tf32_rna(bits)
