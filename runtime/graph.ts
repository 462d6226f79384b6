/**
 * Running a compiled graph (compiler/graph/program.ts) on a device: the inputs are checked against the
 * graph, each step's kernel is compiled once per device (then reused), and the steps launch in plan
 * order on tensors allocated for what they write. Returns the outputs by name.
 *
 *   const program = compileGraph({ y: x.softmax() });            // tskc (dsl/graph)
 *   const { y } = await runGraph(device('cpu'), program, { x: Tensor.fromValues(f32, [m, n], data) });
 */
import type { GraphProgram, GraphStep } from '../compiler/graph/program.js';
import { describeValue } from '../compiler/ir/errors.js';
import { printKernel } from '../compiler/ir/printer.js';
import type { Kernel } from '../compiler/ir/ir.js';
import { type CompiledKernel, type Device, DeviceError } from './device.js';
import { Tensor } from './tensor.js';

const compiled = new WeakMap<Device, Map<string, Promise<CompiledKernel>>>();
const texts = new WeakMap<Kernel, string>();

/** The device's compiled kernel for `kernel`, compiled on first use (kernels are told apart by their text). */
export function compileOnce(dev: Device, kernel: Kernel): Promise<CompiledKernel> {
  let byText = compiled.get(dev);
  if (!byText) compiled.set(dev, (byText = new Map()));
  let text = texts.get(kernel);
  if (text === undefined) texts.set(kernel, (text = printKernel(kernel)));
  let k = byText.get(text);
  if (!k) {
    k = dev.compile(kernel);
    k.catch(() => byText.delete(text)); // a failed compile is not remembered
    byText.set(text, k);
  }
  return k;
}

/** Checks that the feeds are exactly the graph's inputs, with their dtypes and shapes. */
export function checkFeeds(program: GraphProgram, feeds: Readonly<Record<string, Tensor>>): void {
  if (feeds === null || typeof feeds !== 'object') throw new DeviceError(`graph inputs: expected a record of tensors by input name, got ${describeValue(feeds)}`);
  for (const [name, node] of program.inputs) {
    const t = feeds[name];
    if (t === undefined) throw new DeviceError(`graph input ${name} (${node.dtype.name}[${node.shape.join(', ')}]) is not given`);
    if (!(t instanceof Tensor)) throw new DeviceError(`graph input ${name}: expected a Tensor`);
    if (t.dtype !== node.dtype || t.shape.length !== node.shape.length || t.shape.some((e, i) => e !== node.shape[i])) {
      throw new DeviceError(`graph input ${name}: expected ${node.dtype.name}[${node.shape.join(', ')}], got ${t.dtype.name}[${t.shape.join(', ')}]`);
    }
  }
  for (const name of Object.keys(feeds)) {
    if (!program.inputs.has(name)) throw new DeviceError(`${name} is not an input of the graph (its inputs: ${[...program.inputs.keys()].join(', ')})`);
  }
}

/** The same data as a 1-D tensor, as graph kernels take every argument. */
function flat(t: Tensor): Tensor {
  return Tensor.fromStorage(t.dtype, [t.size], t.storage);
}

export interface RunGraphOptions {
  /** Fill every tensor a step allocates with NaN first, so an element no kernel writes shows (tests). */
  readonly poison?: boolean;
  /** Tensors to write outputs into, by name (others are allocated). */
  readonly outputs?: Readonly<Record<string, Tensor>>;
}

/**
 * Intermediate tensors of earlier runGraph calls, per program, for the next call to write again: a
 * fresh tensor costs a page fault per 4 KiB on first touch, which on some machines is longer than the
 * kernel. A call takes a set and gives it back at its end, so calls that overlap never share one, and
 * intermediates never reach the caller.
 */
const spare = new WeakMap<GraphProgram, Map<number, Tensor>[]>();

/** Runs one step on the tensors computed so far, adding the ones it writes. */
export async function runStep(dev: Device, step: GraphStep, buffers: Map<number, Tensor>, options: RunGraphOptions = {}): Promise<void> {
  const args: Record<string, Tensor> = {};
  for (const a of step.args) {
    let t = buffers.get(a.node.id);
    if (a.role === 'out' && t === undefined) {
      t = Tensor.empty(a.node.dtype, a.node.shape);
      if (options.poison) t.fill(NaN);
      buffers.set(a.node.id, t);
    }
    if (t === undefined) throw new DeviceError(`graph step ${step.kernel.name} reads a tensor no earlier step wrote (node ${a.node.id})`);
    args[a.arg] = flat(t);
  }
  await (await compileOnce(dev, step.kernel)).run(args);
}

/** The output tensors the caller gives, checked, by node id. */
function givenOutputs(program: GraphProgram, feeds: Readonly<Record<string, Tensor>>, given: Readonly<Record<string, Tensor>>): Map<number, Tensor> {
  if (given === null || typeof given !== 'object') throw new DeviceError(`graph outputs: expected a record of tensors by output name, got ${describeValue(given)}`);
  const byNode = new Map<number, Tensor>();
  const feedTensors = Object.values(feeds);
  for (const [name, t] of Object.entries(given)) {
    const node = program.outputs.get(name);
    if (node === undefined) throw new DeviceError(`${name} is not an output of the graph (its outputs: ${[...program.outputs.keys()].join(', ')})`);
    if (!(t instanceof Tensor) || t.dtype !== node.dtype || t.shape.length !== node.shape.length || t.shape.some((e, i) => e !== node.shape[i])) {
      throw new DeviceError(`output ${name}: expected a Tensor ${node.dtype.name}[${node.shape.join(', ')}]`);
    }
    if (feedTensors.some((f) => sharesMemory(f, t))) throw new DeviceError(`output ${name}: the tensor's memory is also an input's (kernels would read what they overwrite)`);
    const other = byNode.get(node.id);
    if (other !== undefined && other !== t) throw new DeviceError(`output ${name} is the same value as another output: give it one tensor`);
    if (other === undefined && [...byNode.values()].includes(t)) throw new DeviceError(`output ${name}: the tensor is given for another output too`);
    byNode.set(node.id, t);
  }
  return byNode;
}

/** Whether two tensors' storage overlaps (one tensor, or views of one buffer). */
function sharesMemory(a: Tensor, b: Tensor): boolean {
  const [x, y] = [a.storage, b.storage];
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/** Runs every step from the feeds (and `initial` tensors to write into); the tensors by node id. */
export async function runSteps(
  dev: Device,
  program: GraphProgram,
  feeds: Readonly<Record<string, Tensor>>,
  options: RunGraphOptions = {},
  initial: ReadonlyMap<number, Tensor> = new Map(),
): Promise<Map<number, Tensor>> {
  checkFeeds(program, feeds);
  const buffers = new Map<number, Tensor>(initial);
  for (const [id, t] of givenOutputs(program, feeds, options.outputs ?? {})) buffers.set(id, t);
  for (const [name, node] of program.inputs) buffers.set(node.id, feeds[name]!);
  for (const step of program.steps) await runStep(dev, step, buffers, options);
  return buffers;
}

/** Runs the program on `dev`; the outputs by name. */
export async function runGraph(dev: Device, program: GraphProgram, feeds: Readonly<Record<string, Tensor>>, options: RunGraphOptions = {}): Promise<Record<string, Tensor>> {
  // Poisoned runs allocate afresh (a reused tensor holds the last run's values) and keep nothing.
  const pool = options.poison ? undefined : spare.get(program) ?? [];
  if (pool) spare.set(program, pool);
  const buffers = await runSteps(dev, program, feeds, options, pool?.pop());
  const out: Record<string, Tensor> = {};
  for (const [name, node] of program.outputs) out[name] = buffers.get(node.id)!;
  const kept = new Set([...program.inputs.values(), ...program.outputs.values()].map((n) => n.id));
  pool?.push(new Map([...buffers].filter(([id]) => !kept.has(id))));
  return out;
}
