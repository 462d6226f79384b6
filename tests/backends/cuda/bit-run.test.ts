/**
 * The CUDA prelude's tskc_get_bit_run, which loads a chunk of packed sub-byte elements from the words
 * that hold it, gives every element the shared prelude's tskc_get_bits gives, for every width 1..7,
 * every run length the emitter uses (n * width <= 64) and every bit alignment, and reads no word past
 * the tensor. It is plain C once TSKC_FN is defined, so it runs here on the host, under AddressSanitizer,
 * with each tensor allocated to its exact word count.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CUDA_PRELUDE } from '../../../backends/cuda/prelude.js';
import { PRELUDE_BODY } from '../../../backends/clike/prelude.js';
import { findCompiler } from '../../../runtime/cpu/toolchain.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const run = promisify(execFile);
const testC = testWithCompiler('the packed-run test');

/** The text of one `TSKC_FN` helper of a prelude, by name. */
function helper(prelude: string, name: string): string {
  const match = new RegExp(`TSKC_FN [^\\n]* ${name}\\(.*?\\n}\\n`, 's').exec(prelude);
  if (!match) throw new Error(`no helper ${name} in the prelude`);
  return match[0];
}

testC('tskc_get_bit_run matches tskc_get_bits at every width, length and alignment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tskc-bit-run-'));
  const source = [
    '#include <stdint.h>',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#define TSKC_FN static inline',
    helper(CUDA_PRELUDE, 'tskc_get_bit_run'),
    helper(PRELUDE_BODY, 'tskc_get_bits'),
    'int main(void) {',
    '  uint32_t noise = 2026u; long checked = 0;',
    '  for (unsigned width = 1; width <= 7; width++)',
    '    for (unsigned n = 2; n * width <= 64; n++)',
    '      for (long count = n; count <= n + 70; count++) {',
    // Exactly the words `count` elements need: a read past them is a heap overflow.
    '        const long words = (count * width + 31) / 32;',
    '        uint32_t *w = malloc(words * sizeof *w);',
    '        for (long k = 0; k < words; k++) { noise = noise * 1664525u + 1013904223u; w[k] = noise; }',
    '        for (long i = 0; i + n <= count; i++) {',
    '          const uint64_t run = tskc_get_bit_run(w, i, width, n);',
    '          for (unsigned v = 0; v < n; v++) {',
    '            const uint32_t got = (uint32_t)((run >> (v * width)) & ((1u << width) - 1u));',
    '            const uint32_t want = tskc_get_bits(w, i + v, (int)width);',
    '            if (got != want) { printf("width %u n %u element %ld: %u, want %u\\n", width, n, i + v, got, want); return 1; }',
    '            checked++;',
    '          }',
    '        }',
    '        free(w);',
    '      }',
    '  printf("%ld\\n", checked);',
    '  return 0;',
    '}',
  ].join('\n');
  const [c, exe] = [join(dir, 'bit-run.c'), join(dir, 'bit-run')];
  writeFileSync(c, source);
  const cc = (await findCompiler())!;
  await run(cc.path, [...cc.args, '-std=c11', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe, c]);
  const { stdout } = await run(exe);
  expect(Number(stdout.trim())).toBeGreaterThan(100_000);
});
