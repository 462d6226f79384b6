/**
 * How the elements of a register tile are spread over the threads of a block (a CUDA block, a WebGPU
 * workgroup). The tile is seen as rows x cols (cols = its last dim); each row is cut into chunks of
 * `vec` consecutive elements, the chunks of a row are dealt round-robin to a group of `lanes` threads,
 * and the block's threads form threads / lanes such groups, each taking every (threads / lanes)-th
 * row. In Tilus terms the layout is local(rowIters, colIters).spatial(groups, lanes).local(1, vec) over
 * the padded [rows, cols] tile.
 *
 * Thread t holds register r = (i * colIters + c) * vec + v, the element at
 *   row = i * groups + t / lanes,  col = (c * lanes + t % lanes) * vec + v,
 * valid when row < rows and col < cols. The layout depends on the shape only, so every elementwise op
 * (whose operands share the result's shape) is per-thread; a tile of one element is replicated: every
 * thread holds it.
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
  /** Row groups: threads / lanes. */
  readonly groups: number;
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
  if (size <= 1) return { size, replicated: true, rows: 1, cols: 1, vec: 1, lanes: 1, groups: threads, rowIters: 1, colIters: 1, regs: 1 };
  let vec = maxVec;
  while (cols % vec !== 0) vec /= 2;
  const chunks = cols / vec;
  const lanes = Math.min(threads, nextPow2(chunks));
  const groups = threads / lanes;
  const rowIters = Math.ceil(rows / groups);
  const colIters = Math.ceil(chunks / lanes);
  return { size, replicated: false, rows, cols, vec, lanes, groups, rowIters, colIters, regs: rowIters * colIters * vec };
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.replicated || b.replicated) return a.replicated === b.replicated;
  return a.rows === b.rows && a.cols === b.cols && a.vec === b.vec && a.lanes === b.lanes;
}
