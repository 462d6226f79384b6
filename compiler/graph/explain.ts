/**
 * The plan of a compiled graph as text (`tskc explain`): the kernels in launch order, what each fuses,
 * the tensors it reads and writes, and the bytes it moves; then the total beside the unfused plan's
 * (one kernel per op), so what fusion saved is visible.
 */
import { type FusionPlan, planFusion } from './fusion.js';
import { type GraphNode, describeNode } from './nodes.js';
import { type GraphProgram, groupBytes, storageOf, tensorBytes } from './program.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Bytes the whole plan moves. */
export function planBytes(plan: FusionPlan): number {
  return plan.groups.reduce((s, g) => {
    const { read, written } = groupBytes(g);
    return s + read + written;
  }, 0);
}

export function explainProgram(program: GraphProgram): string {
  const outputNames = new Map<number, string>();
  for (const [name, n] of program.outputs) if (!outputNames.has(n.id)) outputNames.set(n.id, name);
  // An intermediate is t<id>, made distinct from the names of inputs and outputs as lowering makes it.
  const taken = new Set([...program.inputs.keys(), ...program.outputs.keys()]);
  const nameOf = (n: GraphNode): string => {
    if (n.op.kind === 'input') return n.op.name;
    let name = outputNames.get(n.id);
    if (name === undefined) for (name = `t${n.id}`; taken.has(name); ) name = `${name}_`;
    return name;
  };
  const tensor = (n: GraphNode) => `${nameOf(n)} ${n.dtype.name}[${n.shape.join(', ')}]`;

  // The row limits decide only what may fuse; one kernel per op must plan whatever the fused plan holds.
  const unfused = planFusion(program.plan.outputs, { fuse: false, maxRow: Number.MAX_SAFE_INTEGER, maxMatmulRow: Number.MAX_SAFE_INTEGER });
  const lines = [
    `${program.outputs.size} output${program.outputs.size === 1 ? '' : 's'} (${[...program.outputs.keys()].join(', ')}) from ${program.inputs.size} input${program.inputs.size === 1 ? '' : 's'}: ` +
      `${program.steps.length} kernel${program.steps.length === 1 ? '' : 's'} (one per op: ${unfused.groups.length})`,
  ];
  for (const [i, step] of program.steps.entries()) {
    const g = step.group;
    const { read, written } = groupBytes(g);
    const params = Object.entries(step.params).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push('');
    lines.push(`kernel ${i + 1}: ${step.kernel.name}`);
    lines.push(`  ${g.kind} over [${g.shape.join(', ')}]${g.k === undefined ? '' : `, K = ${g.k}`}${g.wholeRows ? ', whole rows per program' : ''}; tile ${params}`);
    lines.push(`  fuses ${g.nodes.length} op${g.nodes.length === 1 ? '' : 's'}: ${g.nodes.map((n) => `${describeNode(n)}${g.outputs.includes(n) ? ` -> ${nameOf(n)}` : ''}`).join(', ')}`);
    const reads = [...new Map(g.inputs.map((n) => [storageOf(n).id, storageOf(n)])).values()];
    const readAs = (n: GraphNode) => {
      const [direct, transposed] = [g.inputs.includes(n), g.inputs.some((x) => x.op.kind === 'transpose' && x.inputs[0] === n)];
      return transposed ? (direct ? ' (and transposed)' : ' (transposed)') : '';
    };
    lines.push(`  reads  ${reads.map((n) => `${tensor(n)}${readAs(n)}`).join(', ') || 'nothing'} = ${formatBytes(read)}`);
    lines.push(`  writes ${g.outputs.map(tensor).join(', ')} = ${formatBytes(written)}`);
    lines.push(`  moves  ${formatBytes(read + written)}`);
  }
  const total = planBytes(program.plan);
  const unfusedTotal = planBytes(unfused);
  lines.push('');
  lines.push(`total: ${formatBytes(total)} moved; one kernel per op would move ${formatBytes(unfusedTotal)} (${(unfusedTotal / Math.max(total, 1)).toFixed(2)}x)`);
  lines.push(`(bytes count each tensor a kernel reads or writes once; ${tensorsNote(program)})`);
  return `${lines.join('\n')}\n`;
}

function tensorsNote(program: GraphProgram): string {
  const matmuls = program.steps.some((s) => s.group.kind === 'matmul');
  const inputs = [...program.inputs.values()].reduce((s, n) => s + tensorBytes(n), 0);
  return `${matmuls ? 'a matmul re-reads operand tiles from cache, not counted; ' : ''}the inputs alone are ${formatBytes(inputs)}`;
}
