// A tile made inside a loop body is used after the loop instead of being carried.
import { type Tile, arange, forRange, kernel } from '../../../dsl/index.js';

// The message names the value by its number, which depends on how many ops came before it.
export const pattern = /^mul: operand %\d+ : tile<i32>\[4\] is used outside the loop or branch that defines it$/;
export const build = () =>
  kernel('k', {}, () => {
    let inside: Tile | undefined;
    forRange(0, 4, 1, [], (i) => {
      inside = arange(4).add(i);
      return [];
    });
    inside!.mul(2);
  }, { grid: () => [1] }).build();
