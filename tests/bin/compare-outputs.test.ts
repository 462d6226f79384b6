/** `tskc run --check`'s comparison: what passes and what fails. */
import { compareOutputs } from '../../bin/launch-inputs.js';
import { f32, i32, input, kernel, load, output, store, arange } from '../../dsl/index.js';
import { Tensor } from '../../runtime/tensor.js';

const k = kernel('cmp', { x: input(f32, [4]), y: output(f32, [4]), n: output(i32, [4]) }, ({ x, y, n }) => {
  const i = arange(4);
  store(y, [i], load(x, [i]));
  store(n, [i], i);
}, { grid: () => [1] }).build();

const run = (y: number[], yWant: number[], n = [1, 2, 3, 4], nWant = [1, 2, 3, 4], floatUlps?: number) =>
  compareOutputs(
    k,
    { y: Tensor.fromValues(f32, [4], y), n: Tensor.fromValues(i32, [4], n) },
    { y: Tensor.fromValues(f32, [4], yWant), n: Tensor.fromValues(i32, [4], nWant) },
    floatUlps,
  ).map((c) => [c.name, c.pass]);

describe('compareOutputs', () => {
  test('equal outputs pass, +0 and -0 included, NaN matching NaN', () => {
    expect(run([1, -0, NaN, 3], [1, 0, NaN, 3])).toEqual([['y', true], ['n', true]]);
  });

  test('floats pass within 4 ulp of the largest magnitude, even near zero; not beyond', () => {
    const ulp = 2 ** -23 * 100;
    expect(run([100, 3 * ulp, 1, 2], [100, 0, 1, 2])).toEqual([['y', true], ['n', true]]);
    expect(run([100, 5 * ulp, 1, 2], [100, 0, 1, 2])).toEqual([['y', false], ['n', true]]);
  });

  test('a wider float tolerance widens floats only: integers stay exact', () => {
    const ulp = 2 ** -23 * 100;
    expect(run([100, 12 * ulp, 1, 2], [100, 0, 1, 2], [1, 2, 3, 4], [1, 2, 3, 4], 12)).toEqual([['y', true], ['n', true]]);
    expect(run([100, 13 * ulp, 1, 2], [100, 0, 1, 2], [1, 2, 3, 5], [1, 2, 3, 4], 12)).toEqual([['y', false], ['n', false]]);
  });

  test('a NaN where a number was expected, an infinity, or an integer off by one fails', () => {
    expect(run([NaN, 1, 1, 1], [1, 1, 1, 1])[0]).toEqual(['y', false]);
    expect(run([Infinity, 1, 1, 1], [3e38, 1, 1, 1])[0]).toEqual(['y', false]);
    expect(run([1, 1, 1, 1], [1, 1, 1, 1], [1, 2, 3, 5])[1]).toEqual(['n', false]);
  });
});
