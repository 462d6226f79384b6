/**
 * How the elements of a register tile are spread over the threads of a block (a CUDA block, a WebGPU
 * workgroup). The tile is seen as rows x cols (cols = its last dim, but in a row slice, below, which
 * sees a 1-D [rows] tile as rows x 1); each row is cut into chunks of `vec` consecutive elements, the
 * chunks of a row are dealt round-robin to a group of `lanes` threads, and the block's threads form
 * threads / lanes such groups, each taking every (threads / lanes)-th row. In Tilus terms the layout is
 * local(rowIters, colIters).spatial(groups, lanes).local(1, vec) over the padded [rows, cols] tile (a row
 * slice: local(rowIters).spatial(groups), each value repeated over its row's lanes). Element index
 * e = row * cols + col either way, which is the flat index of the tile's element.
 *
 * Thread t holds register r = (i * colIters + c) * vec + v, the element at
 *   row = i * groups / rowReplicas + (t / lanes) / rowReplicas,
 *   col = (c * lanes / replicas + (t % lanes) / replicas) * vec + v,
 * valid when row < rows and col < cols (replicas is 1 but in a row slice, rowReplicas 1 but in a
 * column slice, below). Within a kernel the
 * layout depends on the shape only (one choice per shape: this one, or fragmentDistribution below for
 * a tensor-core dot's result shape and rowSlice of it for that shape's row statistics), so every
 * elementwise op (whose operands share the result's shape) is per-thread; a tile of one element is
 * replicated: every thread holds it.
 *
 * Why this layout: `vec` consecutive elements make one 16-byte load or store when the access is
 * contiguous (vec = 8 covers bf16), and a row owned by one group of lanes reduces along the last axis
 * with a per-thread loop and warp shuffles. A backend may ask for a smaller or larger `maxVec`, the same
 * for every tile of a kernel (the WGSL backend sizes chunks in whole words of its narrowest tensor).
 */
export interface Distribution {
  /** Elements in the tile. */
  readonly size: number;
  /** One element, held by every thread. */
  readonly replicated: boolean;
  readonly rows: number;
  readonly cols: number;
  /** Consecutive elements of a row held by one thread (a power of two dividing cols). */
  readonly vec: number;
  /** Threads sharing a row (a power of two dividing the thread count). */
  readonly lanes: number;
  /**
   * Consecutive lanes of a row that hold the same chunk (1 but in a row slice, where all of a row's
   * lanes hold its one element): lane l of a row takes chunks c * (lanes / replicas) + l / replicas.
   */
  readonly replicas: number;
  /** Row groups: threads / lanes. */
  readonly groups: number;
  /**
   * Consecutive row groups that hold the same row (1 but in a column slice, where every group holds
   * the one row): group q takes rows i * (groups / rowReplicas) + q / rowReplicas.
   */
  readonly rowReplicas: number;
  readonly rowIters: number;
  readonly colIters: number;
  /** Registers per thread. */
  readonly regs: number;
}

export const MAX_VEC = 8;

const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(x, 1)));

export function distribute(shape: readonly number[], threads: number, maxVec = MAX_VEC): Distribution {
  const size = shape.reduce((a, b) => a * b, 1);
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1]!;
  const rows = cols === 0 ? 0 : size / cols;
  if (size <= 1) return { size, replicated: true, rows: 1, cols: 1, vec: 1, lanes: 1, replicas: 1, groups: threads, rowReplicas: 1, rowIters: 1, colIters: 1, regs: 1 };
  let vec = maxVec;
  while (cols % vec !== 0) vec /= 2;
  const chunks = cols / vec;
  const lanes = Math.min(threads, nextPow2(chunks));
  const groups = threads / lanes;
  const rowIters = Math.ceil(rows / groups);
  const colIters = Math.ceil(chunks / lanes);
  return { size, replicated: false, rows, cols, vec, lanes, replicas: 1, groups, rowReplicas: 1, rowIters, colIters, regs: rowIters * colIters * vec };
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.replicated || b.replicated) return a.replicated === b.replicated;
  return a.rows === b.rows && a.cols === b.cols && a.vec === b.vec && a.lanes === b.lanes && a.replicas === b.replicas && a.groups === b.groups && a.rowReplicas === b.rowReplicas;
}

/**
 * The distribution of a dot's [m, n] result whose accumulators stay in mma.sync.m16n8k16's registers
 * (backends/cuda: the registerAccumulators option): the family above with 2 elements to a chunk and 4
 * threads to a row, so that lane 4g + t of warp w holds, for each row iteration i and 8-column block c,
 * row i * groups + 8w + g at columns 8c + 2t and 8c + 2t + 1: exactly the C fragment's (row g, columns
 * 2t, 2t+1) for the mma rows 0-7, and, from row iteration i + 1, its (row g + 8) for rows 8-15. The mma
 * takes its 16 rows from two row iterations (A's rows gathered to match): the layout is then the one
 * every other op of the kernel already understands, and the accumulator never leaves registers. The
 * cost: global loads and stores of tiles of that shape move 2 elements per access, not up to 16 bytes.
 * Undefined unless the tile splits into such pairs: n a multiple of 8, m of 2 x (threads / 4).
 */
export function fragmentDistribution(shape: readonly number[], threads: number): Distribution | undefined {
  if (shape.length !== 2) return undefined;
  const [rows, cols] = shape as [number, number];
  const groups = threads / 4;
  if (threads % 32 !== 0 || cols % 8 !== 0 || rows % (2 * groups) !== 0) return undefined;
  const [rowIters, colIters] = [rows / groups, cols / 8];
  return { size: rows * cols, replicated: false, rows, cols, vec: 2, lanes: 4, replicas: 1, groups, rowReplicas: 1, rowIters, colIters, regs: rowIters * colIters * 2 };
}

/**
 * The row slice of `parent`: the distribution of a tile holding one value per row of the parent's
 * tiles (shape [rows] or [rows, 1]) such that each thread holds the values of exactly the rows it holds
 * in the parent, at register i for row iteration i, every lane of a row holding a copy. A reduction
 * along the parent's rows then ends in the lanes' butterfly (every lane has the result), and the
 * broadcast back to the parent's shape (x - rowmax, acc * rescale) is a per-thread copy: for
 * fragmentDistribution, flash attention's row statistics never leave registers. Copies are identical,
 * so the lanes' stores of the same element write the same value.
 */
export function rowSlice(parent: Distribution): Distribution {
  const { rows, lanes, groups, rowIters } = parent;
  return { size: rows, replicated: false, rows, cols: 1, vec: 1, lanes, replicas: lanes, groups, rowReplicas: 1, rowIters, colIters: 1, regs: rowIters };
}

/**
 * The column slice of `parent`: the distribution of a tile holding one value per column of the
 * parent's tiles (shape [cols] or [1, cols]) such that each thread holds the values of exactly the
 * columns it holds in the parent, every row group holding a copy. A row vector broadcast down the
 * parent's rows (a GEMV step's x against its [BN, BK] codes) is then a per-thread copy, and its own
 * reduction (the sum of x) ends in every thread after the lanes' butterfly. Copies are identical, so
 * the groups' stores of the same element write the same value.
 */
export function colSlice(parent: Distribution): Distribution {
  const { cols, vec, lanes, groups, colIters } = parent;
  return { size: cols, replicated: false, rows: 1, cols, vec, lanes, replicas: 1, groups, rowReplicas: groups, rowIters: 1, colIters, regs: colIters * vec };
}

/** Whether `slice` is the column slice of `parent`. */
export function isColSliceOf(slice: Distribution, parent: Distribution): boolean {
  return !parent.replicated && parent.replicas === 1 && parent.rowReplicas === 1 && sameDistribution(slice, colSlice(parent));
}

/** Whether `slice` is the row slice of `parent` (rowSlice(parent) or one equal to it). */
export function isRowSliceOf(slice: Distribution, parent: Distribution): boolean {
  return !parent.replicated && parent.replicas === 1 && sameDistribution(slice, rowSlice(parent));
}

/**
 * Where a thread's mma.sync.m16n8k16 operands and accumulators lie in fragmentDistribution(shape,
 * threads), for lane 4g + t of warp w, row-iteration pair p (iterations 2p and 2p + 1), 8-column block c
 * and slot s of the C fragment (0, 1: mma row g; 2, 3: row g + 8; columns 2t + s % 2): the tile row of
 * each mma row half, and the thread's register of each slot. The CUDA emitter writes these expressions
 * with names for their arguments; tests evaluate them with numbers against the PTX fragment layout.
 */
export const mmaFragment = {
  /** The tile row that mma row g (half 0) or g + 8 (half 1) stands for (`half` may be an expression). */
  row: (d: Distribution, p: string, half: 0 | 1 | string, w: string, g: string) => `((2 * ${p} + ${half}) * ${d.groups} + 8 * ${w} + ${g})`,
  /** The register of C slot s. */
  register: (d: Distribution, p: string, c: string, s: 0 | 1 | 2 | 3) => `(((2 * ${p} + ${s >> 1}) * ${d.colIters} + ${c}) * 2 + ${s & 1})`,
  /**
   * Where a and b are staged for the register path, as elements of `bytes` (2: 16-bit codes; 4: f32
   * for tf32): a row-major, each row padded by 16 bytes to `stride` = K + 16 / bytes elements; b at byte
   * `b`, n-major (its columns as rows, the same stride) or, with `bMajor` 'k', row-major with its rows
   * of N codes padded to `bStride` = N + 8 where N is a multiple of 16 (an odd multiple of 8 is already
   * an odd multiple of 4 words, and stays unpadded). Either way every
   * block of 8 rows of 16 aligned bytes is what ldmatrix reads (n-major b as A is read, k-major b with
   * .trans), the two codes of every 16-bit A and n-major B fragment register are adjacent (the lower
   * column or row first), and the 8 rows of a block start on banks 4 apart (a row is an odd multiple of
   * 4 words): no bank conflicts in the fragment loads. k-major b also takes b's own register layout
   * (consecutive columns) without conflicts; n-major b is what a copy of an [n, k] tile of W lands as.
   * `a(row, col)` and `bAt(row, col)` are the element indices of a[row, col] and b[row, col].
   */
  staging: (m: number, n: number, k: number, bytes = 2, bMajor: 'n' | 'k' = 'n') => {
    const stride = k + 16 / bytes;
    const bStride = bMajor === 'n' ? stride : n % 16 === 0 ? n + 8 : n;
    const b = Math.ceil((m * stride * bytes) / 16) * 16;
    return {
      stride,
      bStride,
      b,
      bytes: b + (bMajor === 'n' ? n : k) * bStride * bytes,
      a: (row: string, col: string) => `(${row}) * ${stride} + ${col}`,
      bAt: (row: string, col: string) => (bMajor === 'n' ? `(${col}) * ${bStride} + ${row}` : `(${row}) * ${bStride} + ${col}`),
    };
  },
};
