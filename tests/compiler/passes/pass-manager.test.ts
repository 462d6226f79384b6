import { IrError } from '../../../compiler/ir/errors.js';
import { Block, type Kernel, walkOps } from '../../../compiler/ir/ir.js';
import { hostTensor, interpret } from '../../../compiler/interpret/index.js';
import { PassManager, dce } from '../../../compiler/passes/index.js';
import { arange, f32, forRange, input, kernel, load, output, store } from '../../../dsl/index.js';

const withDeadCode = kernel('dead', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
  const i = arange(16);
  x.dim(0); // read and dropped
  i.mul(3).add(1); // computed and dropped
  const [unused] = forRange(0, 4, 1, [i], (k, [c]) => [c!.add(k)]); // a loop with no effect
  void unused;
  store(y, [i], load(x, [i]).mul(2));
}, { grid: () => [1] });

const count = (k: Kernel) => {
  let n = 0;
  walkOps(k.body, () => n++);
  return n;
};

describe('pass manager', () => {
  test('dce removes ops without effects whose results are unused, and keeps the meaning', () => {
    const k = withDeadCode.build();
    const dumps: string[] = [];
    const out = new PassManager([dce], { verifyEach: true, dumpAfter: ['dce'], dump: (name, text) => dumps.push(`${name}\n${text}`) }).run(k);
    expect(count(out)).toBeLessThan(count(k));
    const ops: string[] = [];
    walkOps(out.body, (op) => ops.push(op.opcode));
    expect(ops).toEqual(['arange', 'load', 'const', 'broadcast', 'mul', 'store']);
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(/^dce\nkernel @dead/);
    const run = (kernelToRun: Kernel) => {
      const x = hostTensor(f32, [16], Array.from({ length: 16 }, (_, i) => i));
      const y = hostTensor(f32, [16]);
      interpret(kernelToRun, { x, y });
      return Array.from(y.data);
    };
    expect(run(out)).toEqual(run(k));
    expect(count(k)).toBeGreaterThan(count(out)); // the input kernel is left untouched
  });

  test('a pass that breaks the IR is named by the verifier', () => {
    const broken = { name: 'drop_everything_but_store', run: (k: Kernel): Kernel => {
      const body = new Block();
      body.ops.push(...k.body.ops.filter((op) => op.opcode === 'store'));
      return { ...k, body };
    } };
    expect(() => new PassManager([broken], { verifyEach: true }).run(withDeadCode.build())).toThrow(/^after pass drop_everything_but_store: store: operand %\d+ is used before its definition/);
  });

  test('dumping after a pass that does not exist is refused', () => {
    expect(() => new PassManager([dce], { dumpAfter: ['fusion'] })).toThrow(IrError);
  });
});
