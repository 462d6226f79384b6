import { hostTensor, interpret } from '../../../compiler/interpret/index.js';
import {
  arange,
  barrier,
  cdiv,
  f32,
  forRange,
  i32,
  ifElse,
  input,
  kernel,
  load,
  numPrograms,
  output,
  programId,
  sharedTile,
  store,
  tensor,
} from '../../../dsl/index.js';

describe('load and store', () => {
  const copy = kernel(
    'masked_copy',
    { x: input(f32, ['N']), y: output(f32, ['N']) },
    ({ x, y }, { B }) => {
      const i = programId(0).mul(B).add(arange(B));
      const ok = i.lt(x.dim(0));
      store(y, [i], load(x, [i], { mask: ok, other: 7 }).add(1), { mask: ok });
    },
    { params: { B: 8 }, grid: ({ N }, { B }) => [cdiv(N, B)] },
  );

  test('masked lanes neither read nor write; the tail block is partial', () => {
    const x = hostTensor(f32, [13], Array.from({ length: 13 }, (_, i) => i));
    const y = hostTensor(f32, [13]);
    y.data.fill(NaN);
    interpret(copy.build(), { x, y });
    expect(Array.from(y.data)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  test('the fill value shows where the mask is off', () => {
    const peek = kernel('peek', { x: input(f32, [4]), y: output(f32, [8]) }, ({ x, y }) => {
      const i = arange(8);
      store(y, [i], load(x, [i], { mask: i.lt(4), other: -1 }));
    }, { grid: () => [1] });
    const y = hostTensor(f32, [8]);
    interpret(peek.build(), { x: hostTensor(f32, [4], [1, 2, 3, 4]), y });
    expect(Array.from(y.data)).toEqual([1, 2, 3, 4, -1, -1, -1, -1]);
  });

  test('an unmasked access outside the tensor is an error that names the index', () => {
    const unmasked = kernel('unmasked', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = arange(16);
      store(y, [i], load(x, [i]));
    }, { grid: () => [1] });
    expect(() => interpret(unmasked.build(), { x: hostTensor(f32, [10]), y: hostTensor(f32, [10]) })).toThrow(/index \[10\] is outside x of shape \[10\]/);
  });

  test('arguments are checked against the kernel signature', () => {
    const k = copy.build();
    expect(() => interpret(k, { x: hostTensor(f32, [4]) })).toThrow(/argument y is missing/);
    expect(() => interpret(k, { x: hostTensor(f32, [4]), y: hostTensor(f32, [5]) })).toThrow(/N = 4 from x/);
    expect(() => interpret(k, { x: hostTensor(i32, [4]), y: hostTensor(f32, [4]) })).toThrow('kernel masked_copy: argument x must hold f32, got i32');
    expect(() => interpret(k, { x: hostTensor(f32, [4]), y: hostTensor(f32, [4]), z: 1 })).toThrow(/has no argument z/);
  });
});

describe('grid, loops, branches and shared memory', () => {
  test('program ids cover a 2-D grid in row-major order', () => {
    const ids = kernel('ids', { y: output(i32, [3, 4]) }, ({ y }) => {
      const [p0, p1] = [programId(0), programId(1)];
      store(y, [p0, p1], p0.mul(numPrograms(1)).add(p1));
    }, { grid: () => [3, 4] });
    const y = hostTensor(i32, [3, 4]);
    interpret(ids.build(), { y });
    expect(Array.from(y.data)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  test('a loop carries values; an if picks a branch', () => {
    const k = kernel('loop', { y: output(i32, [2]) }, ({ y }) => {
      const [total, count] = forRange(3, 20, 4, [arange(1).mul(0), arange(1).mul(0)], (i, [s, c]) => [s!.add(i), c!.add(1)]);
      const [picked] = ifElse(count!.reshape([]).gt(4), () => [total!.mul(10)], () => [total!]);
      store(y, [arange(2)], picked!.broadcastTo([2]));
    }, { grid: () => [1] });
    const y = hostTensor(i32, [2]);
    interpret(k.build(), { y });
    // i = 3, 7, 11, 15, 19: five iterations summing to 55.
    expect(Array.from(y.data)).toEqual([550, 550]);
  });

  test('shared memory holds what was stored until the next store', () => {
    const k = kernel('reverse', { x: tensor(f32, [8]) }, ({ x }) => {
      const s = sharedTile([8], f32);
      s.store(load(x, [arange(8)]));
      barrier();
      const i = arange(8);
      store(x, [i.mul(-1).add(7)], s.load());
    }, { grid: () => [1] });
    const x = hostTensor(f32, [8], [0, 1, 2, 3, 4, 5, 6, 7]);
    interpret(k.build(), { x });
    expect(Array.from(x.data)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
  });

  test('a loop with a non-positive step is an error', () => {
    const k = kernel('bad_step', { y: output(i32, [1]) }, ({ y }) => {
      const [s] = forRange(0, 10, programId(0), [arange(1)], (i, [acc]) => [acc!.add(i)]);
      store(y, [arange(1)], s!);
    }, { grid: () => [1] });
    expect(() => interpret(k.build(), { y: hostTensor(i32, [1]) })).toThrow(/step must be positive/);
  });
});
