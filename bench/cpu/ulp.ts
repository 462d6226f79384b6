/**
 * The accuracy claims of the C prelude's f32 transcendentals (backends/clike/prelude.ts), checked over
 * every float: tskc_expf, tskc_sigmoidf and tskc_erff against their double counterparts (and
 * tskc_expf_nonpositive over every x <= 44, where it is right), compiled with
 * tskc's flags (with fused multiply-adds where the CPU has them) and, with --no-fma, without. Prints
 * each function's largest error in units in the last place of the exact value, where it is, and how
 * many results are more floats away from the correctly rounded one than the claim allows (the
 * distance that tests/backends/c/regressions.test.ts checks against the interpreter). About a minute
 * per function on 2 cores.
 *
 *   npx tsx bench/cpu/ulp.ts [--no-fma] [exp|exp-nonpositive|sigmoid|erf ...]
 *
 * tests/backends/c/regressions.test.ts checks a fresh sample of the same on every run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRELUDE } from '../../backends/clike/prelude.js';
import { DEFAULT_CFLAGS, findCompiler } from '../../runtime/cpu/toolchain.js';

/** Each function: its C name, the double reference, and the claimed distance in floats from the correctly rounded result. */
const FUNCTIONS: Record<string, { readonly name: string; readonly reference: string; readonly floats: number; readonly domain?: string }> = {
  exp: { name: 'tskc_expf', reference: 'exp(x)', floats: 1 },
  'exp-nonpositive': { name: 'tskc_expf_nonpositive', reference: 'exp(x)', floats: 1, domain: 'x <= 44.0f' },
  sigmoid: { name: 'tskc_sigmoidf', reference: '1.0 / (1.0 + exp(-x))', floats: 2 },
  erf: { name: 'tskc_erff', reference: 'erf(x)', floats: 1 },
};

/** A C main that runs `fn` on every float in `domain` (NaNs aside, whose result must be a NaN) in parallel. */
function harness(fn: string, reference: string, floats: number, domain = '1'): string {
  return `${PRELUDE}
#include <stdio.h>
static int64_t tskc_ordered(float f) {
  const uint32_t u = tskc_raw_f32_bits(f);
  return u >> 31 ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u;
}
int main(void) {
  double worst = 0; uint32_t at = 0; long over = 0, nans = 0;
  #pragma omp parallel
  {
    double w = 0; uint32_t wat = 0; long o = 0, n = 0;
    #pragma omp for schedule(static)
    for (int64_t i = 0; i <= 0xffffffffLL; i++) {
      const uint32_t u = (uint32_t)i;
      const float x = tskc_bits_f32(u), r = ${fn}(x);
      if (x != x) { n += r == r; continue; }
      if (!(${domain})) continue;
      const double e = ${reference};
      int ex;
      frexp(e, &ex);
      const double ulp = e == 0 || ex - 24 < -149 ? 0x1p-149 : ldexp(1.0, ex - 24);
      // Past the largest float, the exact value rounds to an infinity: only that is right.
      const double err = isinf(r) || isinf((float)e) ? (r == (float)e ? 0 : INFINITY) : fabs((double)r - e) / ulp;
      if (err > w) { w = err; wat = u; }
      // Floats between r and the correctly rounded result, on the line of floats ordered by value.
      const int64_t ri = tskc_ordered(r), ci = tskc_ordered((float)e);
      o += (ri > ci ? ri - ci : ci - ri) > ${floats};
    }
    #pragma omp critical
    { if (w > worst) { worst = w; at = wat; } over += o; nans += n; }
  }
  printf("%-14s max %.4f ulp of the exact value at x = %.9g (0x%08x); %ld results over ${floats} float(s) from the correctly rounded one; %ld NaNs not kept\\n", "${fn}", worst, tskc_bits_f32(at), at, over, nans);
  return over != 0 || nans != 0;
}
`;
}

const args = process.argv.slice(2);
const noFma = args.includes('--no-fma');
const names = args.filter((a) => !a.startsWith('--'));
const dir = mkdtempSync(join(tmpdir(), 'tskc-ulp-'));
const cc = findCompiler();
// tskc's flags, for an executable instead of a shared object.
const executableFlags = DEFAULT_CFLAGS.filter((f) => f !== '-shared' && f !== '-fPIC');
let failed = false;
for (const key of names.length ? names : Object.keys(FUNCTIONS)) {
  const f = FUNCTIONS[key];
  if (!f) throw new Error(`unknown function ${key} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
  const [source, exe] = [join(dir, `${key}.c`), join(dir, key)];
  writeFileSync(source, harness(f.name, f.reference, f.floats, f.domain));
  execFileSync(cc.path, [...cc.args, ...executableFlags, ...(noFma ? ['-mno-fma'] : []), '-o', exe, source, '-lm']);
  try {
    process.stdout.write(execFileSync(exe, { encoding: 'utf8' }));
  } catch (e) {
    process.stdout.write(String((e as { stdout?: string }).stdout ?? e));
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
