/**
 * The .tk front end against the TypeScript DSL: operator precedence, and the variables carried
 * through `for` and `if`. Each .tk kernel is compared op by op with the TypeScript kernel it stands for.
 */
import { kernelDifference } from '../../../compiler/ir/equal.js';
import { parseKernel, printKernel } from '../../../compiler/ir/index.js';
import { type Tile, arange, bool, forRange, i32, ifElse, input, kernel, load, store, tensor } from '../../../dsl/index.js';
import type { TensorArg } from '../../../dsl/tensor.js';
import { TkError, compileTk } from '../../../dsl/text/index.js';
import { binaryOp } from '../../../dsl/tile.js';

const HEADER = 'kernel k(x: in i32[16], y: inout i32[16], z: inout bool[16]) {';
const PRELUDE = 'let i = arange(16); let a = load(x[i]); let b = a * 3; let c = a - 7;';

/** The .tk kernel `body` (after the prelude) as built IR. */
const tk = (body: string) => compileTk(`${HEADER}\n${PRELUDE}\n${body}\n}`, 'test.tk')[0]!.build();

/** The TypeScript kernel with the same prelude. */
const ts = (body: (v: { i: Tile; a: Tile; b: Tile; c: Tile; y: TensorArg; z: TensorArg }) => void) =>
  kernel('k', { x: input(i32, [16]), y: tensor(i32, [16]), z: tensor(bool, [16]) }, ({ x, y, z }) => {
    const i = arange(16);
    const a = load(x, [i]);
    const b = a.mul(3);
    const c = a.sub(7);
    body({ i, a, b, c, y, z });
  }).build();

describe('operator precedence', () => {
  const cases: [string, (v: { a: Tile; b: Tile; c: Tile }) => Tile][] = [
    ['a + b * c', ({ a, b, c }) => a.add(b.mul(c))],
    ['a * b + c', ({ a, b, c }) => a.mul(b).add(c)],
    ['a - b - c', ({ a, b, c }) => a.sub(b).sub(c)],
    ['a / b % c', ({ a, b, c }) => a.div(b).rem(c)],
    ['(a + b) * c', ({ a, b, c }) => a.add(b).mul(c)],
    ['-a * b', ({ a, b }) => a.neg().mul(b)],
    ['- -a + 1', ({ a }) => a.neg().neg().add(1)],
    ['a | b ^ c & a', ({ a, b, c }) => a.or(b.xor(c.and(a)))],
    ['a & b | c ^ a', ({ a, b, c }) => a.and(b).or(c.xor(a))],
    ['a + 2 * 3', ({ a }) => a.add(6)],
    // A number first stays first: add(const 6, a), as the DSL's binaryOp gives it.
    ['2 * 3 + a', ({ a }) => binaryOp('add', 6, a)],
    ['(a + b).sum(0) * 2 + c.max(0, keep_dims: true)', ({ a, b, c }) => a.add(b).sum(0).mul(2).add(c.max(0, { keepDims: true }))],
    ['a.expand_dims(0).T.reshape([16])', ({ a }) => a.expandDims(0).T.reshape([16])],
  ];
  test.each(cases)('%s', (text, build) => {
    expect(kernelDifference(tk(`store(y[i], ${text});`), ts(({ i, a, b, c, y }) => store(y, [i], build({ a, b, c }))))).toBeUndefined();
  });

  const bools: [string, (v: { a: Tile; b: Tile; c: Tile }) => Tile][] = [
    ['a < b + c', ({ a, b, c }) => a.lt(b.add(c))],
    ['a < b & c < a', ({ a, b, c }) => a.lt(b).and(c.lt(a))],
    ['a < b || b < c && c < a', ({ a, b, c }) => a.lt(b).or(b.lt(c).and(c.lt(a)))],
    ['a < b && b < c || c < a', ({ a, b, c }) => a.lt(b).and(b.lt(c)).or(c.lt(a))],
    ['!(a < b) && a != c', ({ a, b, c }) => a.lt(b).not().and(a.ne(c))],
    ['a == b | a >= c', ({ a, b, c }) => a.eq(b).or(a.ge(c))],
    ['(a < b) == (b > c)', ({ a, b, c }) => a.lt(b).eq(b.gt(c))],
    ['a <= 1 ^ 2 > b', ({ a, b }) => a.le(1).xor(binaryOp('gt', 2, b))],
  ];
  test.each(bools)('%s', (text, build) => {
    expect(kernelDifference(tk(`store(z[i], ${text});`), ts(({ i, a, b, c, z }) => store(z, [i], build({ a, b, c }))))).toBeUndefined();
  });

  test('comparisons associate to the left: a < b == b > c is ((a < b) == b) > c', () => {
    expect(() => tk('store(z[i], a < b == b > c);')).toThrow(/3:19: eq\(tile<bool>\[16\], tile<i32>\[16\]\)/);
  });

  test('a different grouping gives a different kernel', () => {
    expect(kernelDifference(tk('store(y[i], a + b * c);'), ts(({ i, a, b, c, y }) => store(y, [i], a.add(b).mul(c))))).toBeDefined();
  });
});

describe('carried variables', () => {
  test('a loop carries exactly the outer variables it assigns, in the order first assigned', () => {
    const text = `
      let s = a; let t = b; let u = c;
      for k in range(0, 4) {
        let w = k + u;       // declared inside: not carried; u is only read
        t = t + w;
        s = s * t;
        t = t - 1;
      }
      store(y[i], s + t + u);`;
    const want = ts(({ i, a, b, c, y }) => {
      const [t, s] = forRange(0, 4, 1, [b, a], (k, [t0, s0]) => {
        const w = k.add(c);
        const t1 = t0!.add(w);
        const s1 = s0!.mul(t1);
        return [t1.sub(1), s1];
      });
      store(y, [i], t!.add(s!).add(c));
    });
    // t is assigned first, so it is carried first: [t, s]. s + t reads the loop results.
    const got = tk(text.replace('s + t + u', 't + s + u'));
    expect(kernelDifference(got, want)).toBeUndefined();
  });

  test('a loop that assigns nothing outside carries nothing; a step may be given', () => {
    const want = ts(({ i, a, y }) => {
      forRange(1, 9, 2, [], (k) => {
        store(y, [i], a.add(k));
        return [];
      });
    });
    expect(kernelDifference(tk('for k in range(1, 9, 2) { store(y[i], a + k); }'), want)).toBeUndefined();
  });

  test('nested loops carry an outer variable through both', () => {
    const want = ts(({ i, a, y }) => {
      const [r] = forRange(0, 2, 1, [a], (_, [acc]) => forRange(0, 3, 1, [acc!], (k, [inner]) => [inner!.add(k)]));
      store(y, [i], r!);
    });
    expect(kernelDifference(tk('let acc = a; for j in range(0, 2) { for k in range(0, 3) { acc = acc + k; } } store(y[i], acc);'), want)).toBeUndefined();
  });

  test('if without else yields the old value on the other branch', () => {
    const want = ts(({ i, a, b, y }) => {
      const [v] = ifElse(a.sum(0).gt(0), () => [b.mul(2)], () => [b]);
      store(y, [i], v!);
    });
    expect(kernelDifference(tk('let v = b; if a.sum(0) > 0 { v = v * 2; } store(y[i], v);'), want)).toBeUndefined();
  });

  test('if/else carries the variables assigned in either branch; else if nests', () => {
    const want = ts(({ i, a, b, c, y }) => {
      const s = a.sum(0);
      const [p, q] = ifElse(
        s.gt(0),
        () => [b.add(1), c],
        () => {
          // The inner if carries q (assigned first) then p.
          const [q1, p1] = ifElse(s.lt(-5), () => [c.add(2), b], () => {
            const p2 = b.sub(1);
            return [c.sub(1), p2];
          });
          return [p1!, q1!];
        },
      );
      store(y, [i], p!.add(q!));
    });
    const text = `
      let p = b; let q = c; let s = a.sum(0);
      if s > 0 { p = p + 1; } else if s < -5 { q = q + 2; } else { p = p - 1; q = q - 1; }
      store(y[i], p + q);`;
    expect(kernelDifference(tk(text), want)).toBeUndefined();
  });

  test('variables declared in a loop or branch are not visible after it; loop variables are not assignable', () => {
    expect(() => tk('for k in range(0, 2) { let w = a + k; } store(y[i], w);')).toThrow(/unknown name w/);
    expect(() => tk('for k in range(0, 2) { k = k + 1; }')).toThrow(/cannot assign to k/);
    expect(() => tk('if a.sum(0) > 0 { let w = a; } store(y[i], w);')).toThrow(TkError);
  });
});

describe('robustness', () => {
  test('brackets may nest 64 deep, not deeper; long operator chains are refused, not a crash', () => {
    expect(() => tk(`store(y[i], ${'('.repeat(60)}a${')'.repeat(60)});`)).not.toThrow();
    expect(() => tk(`store(y[i], ${'('.repeat(70)}a${')'.repeat(70)});`)).toThrow(/brackets nest more than 64 deep/);
    expect(() => tk(`store(y[i], a${' + 1'.repeat(990)});`)).not.toThrow();
    expect(() => tk(`store(y[i], a${' + 1'.repeat(5000)});`)).toThrow(/nests more than 1000/);
  });

  test('an else-if chain 64 long lowers, prints and parses back; a longer one is refused at the if too deep', () => {
    const chain = (n: number) => `let p = a; let s = a.sum(0);\n${'if s > 0 { p = p + 1; } else '.repeat(n)}{ p = p - 1; }\nstore(y[i], p);`;
    const k = tk(chain(64));
    expect(kernelDifference(parseKernel(printKernel(k)), k)).toBeUndefined();
    // Thousands are read without recursion (the parser's stack overflowed at about 700).
    expect(() => tk(chain(3000))).toThrow(/test\.tk:4:1857: loop and branch bodies nest more than 64 deep/);
  });

  test('empty input defines no kernels; build() errors are TkErrors at the kernel', () => {
    expect(compileTk('// nothing\n')).toEqual([]);
    const [k] = compileTk('kernel k(y: out i32[N]) params(B = 4) { store(y[arange(B)], 1); }', 'k.tk');
    expect(() => k!.build({ B: 0 })).toThrow(TkError);
    expect(() => k!.build({ C: 1 } as never)).toThrow(/k.tk:1:8: kernel k has no parameter C/);
  });
});
