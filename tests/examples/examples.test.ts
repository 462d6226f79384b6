/** Every example on the interpreter, fresh random shapes and inputs each run, against float64. */
import { examples } from '../../examples/run.js';
import { freshSeed } from '../../examples/check.js';

describe('examples on the reference interpreter', () => {
  test.each(Object.keys(examples))('%s matches its float64 reference', (name) => {
    for (let run = 0; run < 3; run++) {
      const seed = freshSeed();
      const res = examples[name]!(seed);
      if (!res.pass) throw new Error(`${name} failed with seed ${seed} (${res.detail}): max abs error ${res.maxAbsError}, max rel error ${res.maxRelError}`);
    }
  });
});
