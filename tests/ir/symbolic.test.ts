/**
 * Shape expressions: canonical forms compare equal however they were built, evaluation agrees with the
 * plain arithmetic they were built from (random trees, random symbol values), and interval bounds hold
 * every value the symbols' ranges allow.
 */
import { describe, expect, it } from 'vitest';
import {
  add,
  bounds,
  ceilDiv,
  constValue,
  evaluate,
  floorDiv,
  max,
  min,
  mod,
  mul,
  sub,
  sym,
  symbolsOf,
  symEqual,
  type Range,
  type SymExpr,
  upperPolynomial,
} from '../../src/ir/symbolic.js';
import { polynomialValue } from '../../src/bundle/shape-dims.js';

const seq = sym('seq');
const batch = sym('batch');
const w = sym('w');

describe('canonical form', () => {
  it('makes seq*12 one expression however it is built', () => {
    const ways = [
      mul(seq, 12),
      mul(12, seq),
      mul(mul(seq, 3), 4),
      add(mul(seq, 6), mul(seq, 6)),
      sub(mul(seq, 13), seq),
      floorDiv(mul(seq, 24), 2),
      floorDiv(mul(seq, 24), 2),
      mul(floorDiv(mul(seq, 48), 4), 1),
      add(mul(seq, 12), sub(batch, batch)),
    ];
    for (const e of ways) expect(e.key).toBe('seq*12');
    expect(symEqual(mul(seq, 12), mul(seq, 13))).toBe(false);
  });

  it('expands products and orders terms, so sums and products commute', () => {
    expect(
      symEqual(mul(add(seq, 1), add(batch, 2)), add(add(mul(batch, seq), mul(2, seq)), add(batch, 2))),
    ).toBe(true);
    expect(mul(add(seq, 1), add(seq, -1)).key).toBe('seq*seq - 1');
    expect(sub(seq, seq).key).toBe('0');
    expect(constValue(sub(add(seq, 7), seq))).toBe(7);
  });

  it('divides what divides exactly and keeps the rest as one floor division', () => {
    expect(floorDiv(sub(w, 3), 2).key).toBe('floor((w + 1) / 2) - 2');
    expect(add(floorDiv(sub(w, 3), 2), 1).key).toBe('floor((w + 1) / 2) - 1');
    expect(floorDiv(add(mul(w, 5), 1), 3).key).toBe('floor((w*2 + 1) / 3) + w');
    expect(floorDiv(add(mul(seq, 8), w), 4).key).toBe('floor(w / 4) + seq*2');
    expect(floorDiv(floorDiv(w, 2), 3).key).toBe(floorDiv(w, 6).key);
    expect(floorDiv(mul(batch, mul(seq, 12)), seq).key).toBe('batch*12');
    expect(ceilDiv(seq, 4).key).toBe(floorDiv(add(seq, 3), 4).key);
    expect(floorDiv(w, -2).key).toBe(floorDiv(mul(w, -1), 2).key);
  });

  it('reduces modulo a constant and folds min/max that differ by constants', () => {
    expect(mod(add(mul(seq, 8), 5), 4).key).toBe('1');
    expect(mod(add(mul(seq, 8), add(w, 13)), 4).key).toBe('mod(w + 1, 4)');
    expect(mod(mod(w, 4), 4).key).toBe('mod(w, 4)');
    expect(mod(mul(seq, batch), seq).key).toBe('0');
    expect(min(seq, add(seq, 1)).key).toBe('seq');
    expect(max(seq, add(seq, 1)).key).toBe('seq + 1');
    expect(min(batch, min(seq, 4), 7).key).toBe(min(4, seq, batch).key);
    expect(max(3, 9).key).toBe('9');
  });

  it('refuses a constant divisor 0 and symbols without names, and names symbols otherwise unparsable', () => {
    expect(() => floorDiv(seq, 0)).toThrow(/seq divided by 0/);
    expect(() => mod(seq, sub(w, w))).toThrow(/seq modulo 0/);
    expect(() => sym('')).toThrow(/needs a name/);
    expect(mul(sym('a b'), 2).key).toBe('"a b"*2');
    expect(symbolsOf(add(floorDiv(w, seq), min(batch, 3)))).toEqual(['batch', 'seq', 'w']);
  });
});

describe('evaluation and bounds', () => {
  const ranges: Record<string, Range> = { seq: { min: 1, max: 512 }, w: { min: 3, max: 100 } };

  it('evaluates with Python-style floor division and modulo', () => {
    const out = add(floorDiv(sub(w, 3), 2), 1);
    expect(evaluate(out, { w: 3 })).toBe(1);
    expect(evaluate(out, { w: 10 })).toBe(4);
    expect(evaluate(floorDiv(sub(3, w), 2), { w: 10 })).toBe(-4);
    expect(evaluate(mod(sub(3, w), 4), { w: 10 })).toBe(1);
    expect(evaluate(ceilDiv(seq, 4), { seq: 9 })).toBe(3);
    expect(() => evaluate(seq, {})).toThrow(/shape symbol 'seq' has no value/);
    expect(() => evaluate(floorDiv(w, seq), { w: 1, seq: 0 })).toThrow(/divides by 0 \(seq = 0\)/);
  });

  it('bounds expressions over the declared ranges', () => {
    expect(bounds(mul(seq, 12), ranges)).toEqual({ min: 12, max: 6144 });
    expect(bounds(sub(seq, seq), ranges)).toEqual({ min: 0, max: 0 });
    expect(bounds(add(floorDiv(sub(w, 3), 2), 1), ranges)).toEqual({ min: 1, max: 49 });
    expect(bounds(mod(seq, 8), ranges)).toEqual({ min: 0, max: 7 });
    expect(bounds(mod(add(mul(seq, 0), w), 128), ranges)).toEqual({ min: 3, max: 100 });
    expect(bounds(min(seq, w), ranges)).toEqual({ min: 1, max: 100 });
    expect(bounds(sub(w, seq), ranges)).toEqual({ min: -509, max: 99 });
    expect(() => bounds(batch, ranges)).toThrow(/'batch' has no declared bounds/);
  });
});

/** A deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An expression built twice: through the canonicalizing builders, and as plain arithmetic on values. */
interface Pair {
  built: SymExpr;
  plain: (vals: Record<string, number>) => number;
}

const SYMBOLS: Record<string, Range> = {
  a: { min: 1, max: 9 },
  b: { min: 2, max: 40 },
  c: { min: 0, max: 5 },
};

function randomPair(random: () => number, depth: number): Pair {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  if (depth === 0 || random() < 0.25) {
    if (random() < 0.4) {
      const k = Math.floor(random() * 13) - 6;
      return { built: add(sub(sym('a'), sym('a')), k), plain: () => k };
    }
    const name = pick(Object.keys(SYMBOLS));
    return { built: sym(name), plain: (v) => v[name] };
  }
  const x = randomPair(random, depth - 1);
  const y = randomPair(random, depth - 1);
  const fdiv = (p: number, q: number) => Math.floor(p / q);
  const fmod = (p: number, q: number) => p - q * Math.floor(p / q);
  // divisors that are never 0: a nonzero constant, or a symbol ≥ 1 plus a constant ≥ 0
  const divisor = (): Pair => {
    if (random() < 0.5) {
      const k = pick([-5, -3, -2, 2, 3, 4, 6, 8]);
      return { built: add(sym('a'), sub(k, sym('a'))), plain: () => k };
    }
    const name = pick(['a', 'b']);
    const k = Math.floor(random() * 3);
    return { built: add(sym(name), k), plain: (v) => v[name] + k };
  };
  switch (pick(['add', 'sub', 'mul', 'floorDiv', 'ceilDiv', 'mod', 'min', 'max'] as const)) {
    case 'add':
      return { built: add(x.built, y.built), plain: (v) => x.plain(v) + y.plain(v) };
    case 'sub':
      return { built: sub(x.built, y.built), plain: (v) => x.plain(v) - y.plain(v) };
    case 'mul':
      return { built: mul(x.built, y.built), plain: (v) => x.plain(v) * y.plain(v) };
    case 'floorDiv': {
      const d = divisor();
      return { built: floorDiv(x.built, d.built), plain: (v) => fdiv(x.plain(v), d.plain(v)) };
    }
    case 'ceilDiv': {
      const d = divisor();
      return { built: ceilDiv(x.built, d.built), plain: (v) => -fdiv(-x.plain(v), d.plain(v)) };
    }
    case 'mod': {
      const d = divisor();
      return { built: mod(x.built, d.built), plain: (v) => fmod(x.plain(v), d.plain(v)) };
    }
    case 'min':
      return { built: min(x.built, y.built), plain: (v) => Math.min(x.plain(v), y.plain(v)) };
    case 'max':
      return { built: max(x.built, y.built), plain: (v) => Math.max(x.plain(v), y.plain(v)) };
  }
}

function randomValues(random: () => number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(SYMBOLS).map(([name, r]) => [name, r.min + Math.floor(random() * (r.max - r.min + 1))]),
  );
}

describe('random expressions', () => {
  it('the canonical form evaluates as the arithmetic it was built from, within its bounds', () => {
    const random = rng(11);
    for (let i = 0; i < 400; i++) {
      const { built, plain } = randomPair(random, 4);
      const range = bounds(built, SYMBOLS);
      for (let j = 0; j < 12; j++) {
        const vals = randomValues(random);
        const want = plain(vals);
        const got = evaluate(built, vals);
        if (got !== want || got < range.min || got > range.max)
          expect({ expr: built.key, vals, got, range }).toEqual({ expr: built.key, vals, got: want, range });
      }
    }
  });

  it("an upper polynomial, where there is one, is at least the expression's value (the webgpu runtime sizes dispatches by it)", () => {
    const random = rng(31);
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const { built } = randomPair(random, 3);
      const upper = upperPolynomial(built, SYMBOLS);
      if (!upper) continue;
      checked++;
      for (let j = 0; j < 12; j++) {
        const vals = randomValues(random);
        const [got, bound] = [evaluate(built, vals), polynomialValue(upper, vals)];
        if (!(bound >= got - 1e-9))
          expect({ expr: built.key, vals, bound }).toEqual({ expr: built.key, vals, got });
      }
    }
    // the random expressions include floor divisions and mods that it bounds, not only exact polynomials
    expect(checked).toBeGreaterThan(100);
    expect(upperPolynomial(add(floorDiv(mul(sym('a'), sym('b')), 16), mod(sym('b'), 4)), SYMBOLS)).toEqual({
      c: 3,
      terms: [{ coef: 1 / 16, symbols: ['a', 'b'] }],
    });
    expect(upperPolynomial(sub(10, floorDiv(sym('b'), 2)), SYMBOLS)).toBeUndefined();
    expect(upperPolynomial(min(sym('a'), sym('b')), SYMBOLS)).toBeUndefined();
  });

  it('rebuilding in another order gives the same canonical form', () => {
    const random = rng(23);
    for (let i = 0; i < 300; i++) {
      const [x, y, z] = [0, 1, 2].map(() => randomPair(random, 3).built);
      expect(add(x, y).key).toBe(add(y, x).key);
      expect(mul(x, y).key).toBe(mul(y, x).key);
      expect(mul(add(x, y), z).key).toBe(add(mul(z, x), mul(y, z)).key);
      expect(add(sub(x, y), y).key).toBe(x.key);
      expect(min(x, y, z).key).toBe(min(z, min(y, x)).key);
      expect(floorDiv(add(mul(x, 6), y), 3).key).toBe(add(mul(x, 2), floorDiv(y, 3)).key);
    }
  });
});
