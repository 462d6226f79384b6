/**
 * Mutation testing of the .tk front end: 1,200 mutated versions of the four example sources (and of
 * one kernel using the constructs they do not) (tokens or
 * characters deleted, duplicated or swapped, punctuation inserted, the text truncated) are compiled
 * and built. Every outcome must be a kernel or a TkError with at least one diagnostic, each placed in
 * the file: never another exception, never an "internal error", never a hang.
 * The seed is in the test name; TSKC_TK_SEED=<n> reruns with another.
 */
import { readFileSync } from 'node:fs';
import { TkError, compileTk } from '../../../dsl/text/index.js';

const SEED = Number(process.env['TSKC_TK_SEED'] ?? 20261126) >>> 0;
const CASES = 1200;
const FILES = ['vector-add', 'softmax', 'layer-norm', 'matmul'];
/** Besides the examples, one kernel with the constructs they do not use (if/else, shared tiles and their memory layouts, register layouts...). */
const EXTRA = `kernel extra(a: in f16[M, 16], b: inout u8[M], c: out f32[M, 16], s: f32) grid(cdiv(M, BM) * 2 - 1, M) params(BM = 16) shapes(M = 64) {
  let rows = (program_id(0) * BM + arange(BM)).expand_dims(1);
  let cols = arange(16).expand_dims(0);
  let ok = rows < a.dim(0) && !(cols >= 16) | cols < 0;
  let t = load(a[rows, cols], mask: ok, other: -inf, layout: spatial(4, 8).local(4, 2));
  let sh = shared([16, 16], f16, layout: swizzle(2, 2, 3, (16, (4, 4)):(16, (1, 4))));
  sh.store(t);
  barrier();
  let st = shared([16, 16], f16, layout: cute((16, 16):(1, 16)));
  st.store(sh.load());
  barrier();
  let u = st.load();
  let acc = dot(u, u.T, full([16, 16], 0.5, f32));
  if acc.sum(1).max(0) > s { acc = acc * 2; } else if acc.min(0).min(0) < 0 { acc = -acc; } else { acc = where(acc != acc, 0, acc); }
  for k in range(0, 4, 2) { acc = maximum(acc, exp(acc.sum(0, keep_dims: true) % 3.5e0)); }
  store(c[rows, cols], acc.to(f32), mask: ok);
  store(b[rows.reshape([16])], (load(b[rows.reshape([16])]) ^ 255) & 7);
}
`;
const sources = [...FILES.map((f) => readFileSync(new URL(`../../../examples/${f}.tk`, import.meta.url), 'utf8')), EXTRA];

/** mulberry32: a small seeded generator, enough for picking mutations. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PUNCT = ['(', ')', '[', ']', '{', '}', ',', ';', ':', '.', '=', '==', '<', '>', '&&', '||', '&', '|', '^', '!', '-', '+', '*', '/', '%', '0', '1.5', 'in', 'let', 'for', 'if', 'else', 'kernel', '@', '#', '"'];

/** The text split into tokens (words, numbers, single characters) with the whitespace between kept. */
const tokens = (text: string) => text.match(/[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:e-?\d+)?|\s+|./g) ?? [];

function mutate(text: string, r: () => number): string {
  const pick = (n: number) => Math.floor(r() * n);
  const rounds = 1 + pick(3);
  let t = text;
  for (let round = 0; round < rounds; round++) {
    const toks = tokens(t);
    const i = pick(toks.length);
    const j = pick(toks.length);
    const c = pick(t.length);
    switch (pick(8)) {
      case 0: toks.splice(i, 1); t = toks.join(''); break; // delete a token
      case 1: toks.splice(i, 0, toks[i] ?? ''); t = toks.join(''); break; // duplicate a token
      case 2: [toks[i], toks[j]] = [toks[j] ?? '', toks[i] ?? '']; t = toks.join(''); break; // swap two tokens
      case 3: t = t.slice(0, c) + t.slice(c + 1); break; // delete a character
      case 4: t = t.slice(0, c) + (t[c] ?? '') + t.slice(c); break; // duplicate a character
      case 5: t = t.slice(0, c) + PUNCT[pick(PUNCT.length)]! + t.slice(c); break; // insert punctuation
      case 6: t = t.slice(0, c); break; // truncate
      default: { const d = pick(t.length); t = t.slice(0, c) + (t[d] ?? '') + t.slice(c + 1); } // replace a character
    }
  }
  return t;
}

test('the extra source compiles unmutated', () => {
  expect(() => compileTk(EXTRA, 'extra.tk')[0]!.build()).not.toThrow();
});

test(`mutated examples compile, build or fail with a TkError (seed ${SEED}, ${CASES} cases)`, () => {
  const r = rng(SEED);
  const outcomes = { built: 0, rejected: 0 };
  const started = Date.now();
  for (let n = 0; n < CASES; n++) {
    const text = mutate(sources[n % sources.length]!, r);
    const caseStart = Date.now();
    try {
      for (const k of compileTk(text, 'mutant.tk')) k.build();
      outcomes.built++;
    } catch (e) {
      if (!(e instanceof TkError)) throw new Error(`case ${n} (seed ${SEED}) threw ${String(e)} for:\n${text}`);
      const lines = text.split(/\r\n|\r|\n/).length;
      const bad = e.diagnostics.length === 0 || e.diagnostics.some((d) => d.line < 1 || d.line > lines || d.column < 1 || /internal error/.test(d.message));
      if (bad) throw new Error(`case ${n} (seed ${SEED}): bad diagnostics ${e.message} for:\n${text}`);
      outcomes.rejected++;
    }
    const took = Date.now() - caseStart;
    if (took > 500) throw new Error(`case ${n} (seed ${SEED}) took ${took} ms for:\n${text}`);
  }
  expect(outcomes.built + outcomes.rejected).toBe(CASES);
  expect(outcomes.rejected).toBeGreaterThan(CASES / 2);
  expect(Date.now() - started).toBeLessThan(20_000);
});
