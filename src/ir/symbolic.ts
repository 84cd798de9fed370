/**
 * Shape expressions: integer expressions over named shape symbols (`seq`, `batch`), each symbol with
 * declared bounds (`seq ∈ 1..512`). Built only through the functions here, an expression is always in
 * canonical form — a sum of monomials (a nonzero integer coefficient times a product of atoms) plus a
 * constant, the atoms being symbols and what a polynomial cannot expand (floor division, modulo, min, max)
 * over canonical operands — so expressions equal as polynomials have equal keys: `seq*12` built as
 * (seq*3)*4, as seq*6 + seq*6 or as (seq*24) // 2 is one expression.
 *
 * Division floors and modulo takes the divisor's sign (Python's // and %), as shape arithmetic wants
 * (`floor((w - 3) / 2) + 1`); ceilDiv(a, b) is -floor(-a / b).
 */

export type Atom =
  | { readonly k: 'sym'; readonly name: string; readonly key: string }
  | { readonly k: 'floordiv' | 'mod'; readonly a: SymExpr; readonly b: SymExpr; readonly key: string }
  | { readonly k: 'min' | 'max'; readonly args: readonly SymExpr[]; readonly key: string };

export interface Monomial {
  /** nonzero */
  readonly coef: number;
  /** sorted by key; a repeated atom is a power */
  readonly atoms: readonly Atom[];
}

export interface SymExpr {
  /** sorted by their atoms' keys, no two with the same atoms */
  readonly terms: readonly Monomial[];
  readonly c: number;
  /** canonical text, also how it prints: equal keys, equal expressions */
  readonly key: string;
}

/** What the builders accept: a shape expression or a plain integer. */
export type SymLike = number | SymExpr;

/** A symbol's declared bounds, both inclusive. */
export interface Range {
  min: number;
  max: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const monomialKey = (atoms: readonly Atom[]) => atoms.map((a) => a.key).join('*');

/** `e` where it stands as an operand: parenthesized unless it is one atom or a non-negative constant. */
function operand(e: SymExpr): string {
  const single = e.terms.length === 1 && e.c === 0 && e.terms[0].coef === 1 && e.terms[0].atoms.length === 1;
  return single || (e.terms.length === 0 && e.c >= 0) ? e.key : `(${e.key})`;
}

function make(terms: Monomial[], c: number): SymExpr {
  const kept = terms.filter((t) => t.coef !== 0);
  kept.sort((x, y) => {
    const [kx, ky] = [monomialKey(x.atoms), monomialKey(y.atoms)];
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  });
  const parts = kept.map((t, i) => {
    const magnitude = Math.abs(t.coef);
    const text = monomialKey(t.atoms) + (magnitude === 1 ? '' : `*${magnitude}`);
    if (i === 0) return t.coef < 0 ? `-${text}` : text;
    return t.coef < 0 ? ` - ${text}` : ` + ${text}`;
  });
  if (kept.length === 0) parts.push(String(c));
  else if (c !== 0) parts.push(c < 0 ? ` - ${-c}` : ` + ${c}`);
  return { terms: kept, c, key: parts.join('') };
}

function integer(v: number): number {
  if (!Number.isSafeInteger(v)) throw new Error(`shape expression: ${v} is not a safe integer`);
  return v === 0 ? 0 : v; // no -0
}

const lift = (x: SymLike): SymExpr => (typeof x === 'number' ? make([], integer(x)) : x);
const fromAtom = (atom: Atom): SymExpr => make([{ coef: 1, atoms: [atom] }], 0);

export function constant(v: number): SymExpr {
  return make([], integer(v));
}

export function sym(name: string): SymExpr {
  if (name === '') throw new Error('shape expression: a symbol needs a name');
  return fromAtom({ k: 'sym', name, key: IDENT.test(name) ? name : JSON.stringify(name) });
}

/** The constant value of `e`, or undefined when it depends on a symbol. */
export function constValue(e: SymLike): number | undefined {
  const x = lift(e);
  return x.terms.length === 0 ? x.c : undefined;
}

/** How an expression or integer prints (its canonical text). */
export function symText(e: SymLike): string {
  return lift(e).key;
}

/** Whether two expressions are the same polynomial (same canonical form). */
export function symEqual(a: SymLike, b: SymLike): boolean {
  return lift(a).key === lift(b).key;
}

/** Σ terms of several expressions, each scaled, with like monomials merged. */
function combine(parts: { e: SymExpr; scale: number }[]): SymExpr {
  const terms = new Map<string, Monomial>();
  let c = 0;
  for (const { e, scale } of parts) {
    c = integer(c + e.c * scale);
    for (const t of e.terms) {
      const key = monomialKey(t.atoms);
      const coef = integer((terms.get(key)?.coef ?? 0) + t.coef * scale);
      terms.set(key, { coef, atoms: t.atoms });
    }
  }
  return make([...terms.values()], c);
}

export function add(a: SymLike, b: SymLike): SymExpr {
  return combine([
    { e: lift(a), scale: 1 },
    { e: lift(b), scale: 1 },
  ]);
}

export function sub(a: SymLike, b: SymLike): SymExpr {
  return combine([
    { e: lift(a), scale: 1 },
    { e: lift(b), scale: -1 },
  ]);
}

export function mul(a: SymLike, b: SymLike): SymExpr {
  const [x, y] = [lift(a), lift(b)];
  const asTerms = (e: SymExpr): Monomial[] =>
    e.c === 0 ? [...e.terms] : [...e.terms, { coef: e.c, atoms: [] }];
  const parts: { e: SymExpr; scale: number }[] = [];
  for (const s of asTerms(x))
    for (const t of asTerms(y)) {
      const atoms = [...s.atoms, ...t.atoms].sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
      const coef = integer(s.coef * t.coef);
      parts.push({ e: atoms.length ? make([{ coef, atoms }], 0) : make([], coef), scale: 1 });
    }
  return combine(parts);
}

/** Python's modulo: the result takes the divisor's sign. */
const floorMod = (a: number, b: number) => integer(a - b * Math.floor(a / b));

/**
 * `a` split by a positive constant divisor d: every coefficient and the constant as d·q + r with
 * 0 ≤ r < d; `whole` gathers the q parts, `rest` the r parts. floor((d·whole + rest) / d) = whole +
 * floor(rest / d) and mod(d·whole + rest, d) = mod(rest, d) for integer values, and the split is unique,
 * so equal numerators give equal results.
 */
function splitByConstant(a: SymExpr, d: number): { whole: SymExpr; rest: SymExpr } {
  const q = (x: number) => Math.floor(x / d);
  const r = (x: number) => floorMod(x, d);
  const whole = make(
    a.terms.map((t) => ({ coef: q(t.coef), atoms: t.atoms })),
    q(a.c),
  );
  const rest = make(
    a.terms.map((t) => ({ coef: r(t.coef), atoms: t.atoms })),
    r(a.c),
  );
  return { whole, rest };
}

/**
 * a / b exactly, when b is one monomial (no constant) dividing every term of a and a has no constant:
 * (seq*12) / seq = 12. Valid where b ≠ 0, which a division by b assumes anyway.
 */
function exactQuotient(a: SymExpr, b: SymExpr): SymExpr | undefined {
  if (b.terms.length !== 1 || b.c !== 0 || a.c !== 0) return undefined;
  const { coef, atoms } = b.terms[0];
  const terms: Monomial[] = [];
  for (const t of a.terms) {
    if (t.coef % coef !== 0) return undefined;
    const left = [...t.atoms];
    for (const atom of atoms) {
      const at = left.findIndex((x) => x.key === atom.key);
      if (at < 0) return undefined;
      left.splice(at, 1);
    }
    terms.push({ coef: integer(t.coef / coef), atoms: left });
  }
  return combine(terms.map((t) => ({ e: t.atoms.length ? make([t], 0) : make([], t.coef), scale: 1 })));
}

function divisionAtom(k: 'floordiv' | 'mod', a: SymExpr, b: SymExpr): SymExpr {
  const text = k === 'floordiv' ? `floor(${operand(a)} / ${operand(b)})` : `mod(${a.key}, ${b.key})`;
  return fromAtom({ k, a, b, key: text });
}

/** floor(a / b). A constant divisor 0 is refused; a symbolic one is assumed nonzero. */
export function floorDiv(a: SymLike, b: SymLike): SymExpr {
  const [x, y] = [lift(a), lift(b)];
  const d = constValue(y);
  if (d === 0) throw new Error(`shape expression: ${x.key} divided by 0`);
  if (d === undefined) {
    const exact = exactQuotient(x, y);
    return exact ?? divisionAtom('floordiv', x, y);
  }
  if (d < 0) return floorDiv(mul(x, -1), -d);
  if (d === 1) return x;
  const { whole, rest } = splitByConstant(x, d);
  const r = constValue(rest);
  if (r !== undefined) return add(whole, Math.floor(r / d));
  // floor(floor(p / e) / d) = floor(p / (e·d)) for positive e, d
  const inner =
    rest.terms.length === 1 && rest.c === 0 && rest.terms[0].coef === 1 ? rest.terms[0].atoms : [];
  const nested = inner.length === 1 && inner[0].k === 'floordiv' ? inner[0] : undefined;
  const e = nested && constValue(nested.b);
  if (nested && e !== undefined && e > 0) return add(whole, floorDiv(nested.a, e * d));
  return add(whole, divisionAtom('floordiv', rest, constant(d)));
}

/** ceil(a / b) = -floor(-a / b); with a positive constant divisor, floor((a + b - 1) / b). */
export function ceilDiv(a: SymLike, b: SymLike): SymExpr {
  const d = constValue(b);
  if (d !== undefined && d > 0) return floorDiv(add(a, d - 1), d);
  return mul(floorDiv(mul(a, -1), b), -1);
}

/** a - b·floor(a / b): the sign of the divisor (Python's %). */
export function mod(a: SymLike, b: SymLike): SymExpr {
  const [x, y] = [lift(a), lift(b)];
  const d = constValue(y);
  if (d === 0) throw new Error(`shape expression: ${x.key} modulo 0`);
  if (d === undefined) return exactQuotient(x, y) ? constant(0) : divisionAtom('mod', x, y);
  const n = constValue(x);
  if (n !== undefined) return constant(floorMod(n, d));
  // multiples of d change nothing (a negative divisor: split by |d|, then take the sign of d)
  const kept = splitByConstant(x, Math.abs(d)).rest;
  const r = constValue(kept);
  if (r !== undefined) return constant(floorMod(r, d));
  const only = kept.terms.length === 1 && kept.c === 0 && kept.terms[0].coef === 1 ? kept.terms[0].atoms : [];
  // mod(mod(p, d), d) = mod(p, d)
  if (only.length === 1 && only[0].k === 'mod' && constValue(only[0].b) === d) return kept;
  return divisionAtom('mod', kept, y);
}

function extremum(k: 'min' | 'max', values: SymLike[]): SymExpr {
  if (values.length === 0) throw new Error(`shape expression: ${k} of nothing`);
  const pick = k === 'min' ? Math.min : Math.max;
  const args: SymExpr[] = [];
  const visit = (e: SymExpr) => {
    const atom = e.terms.length === 1 && e.c === 0 && e.terms[0].coef === 1 ? e.terms[0].atoms : [];
    if (atom.length === 1 && atom[0].k === k) atom[0].args.forEach(visit);
    else args.push(e);
  };
  values.map(lift).forEach(visit);
  // of two arguments that differ by a constant, only the smaller (min) or larger (max) can be the result
  const kept: SymExpr[] = [];
  for (const e of args) {
    const rival = kept.findIndex((x) => constValue(sub(e, x)) !== undefined);
    if (rival < 0) kept.push(e);
    else if (pick(constValue(sub(e, kept[rival]))!, 0) !== 0) kept[rival] = e;
  }
  if (kept.length === 1) return kept[0];
  kept.sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  return fromAtom({ k, args: kept, key: `${k}(${kept.map((x) => x.key).join(', ')})` });
}

export const min = (...values: SymLike[]): SymExpr => extremum('min', values);
export const max = (...values: SymLike[]): SymExpr => extremum('max', values);

/** The symbols `e` reads, sorted. */
export function symbolsOf(e: SymLike): string[] {
  const out = new Set<string>();
  const visitAtom = (a: Atom): void => {
    if (a.k === 'sym') out.add(a.name);
    else if ('args' in a) a.args.forEach(visit);
    else [a.a, a.b].forEach(visit);
  };
  const visit = (x: SymExpr): void => x.terms.forEach((t) => t.atoms.forEach(visitAtom));
  visit(lift(e));
  return [...out].sort();
}

/** The value of `e` given every symbol's value. */
export function evaluate(e: SymLike, values: Readonly<Record<string, number>>): number {
  const atom = (a: Atom): number => {
    switch (a.k) {
      case 'sym': {
        const v = values[a.name];
        if (v === undefined) throw new Error(`shape symbol '${a.name}' has no value`);
        return v;
      }
      case 'floordiv':
      case 'mod': {
        const [x, y] = [value(a.a), value(a.b)];
        if (y === 0) throw new Error(`shape expression: ${a.key} divides by 0 (${a.b.key} = 0)`);
        return a.k === 'floordiv' ? Math.floor(x / y) : floorMod(x, y);
      }
      case 'min':
        return Math.min(...a.args.map(value));
      case 'max':
        return Math.max(...a.args.map(value));
    }
  };
  const value = (x: SymExpr): number =>
    x.terms.reduce((sum, t) => sum + t.atoms.reduce((p, a) => p * atom(a), t.coef), x.c);
  return value(lift(e));
}

const UNBOUNDED: Range = { min: -Infinity, max: Infinity };

function times(x: Range, y: Range): Range {
  // 0·∞ counts as 0: a factor that is exactly 0 zeroes the product whatever the other one reaches
  const corners = [x.min * y.min, x.min * y.max, x.max * y.min, x.max * y.max].map((v) =>
    Number.isNaN(v) ? 0 : v,
  );
  return { min: Math.min(...corners), max: Math.max(...corners) };
}

/**
 * The least and greatest values `e` takes when every symbol stays within its range (interval arithmetic
 * on the canonical form, so `seq - seq` is exactly 0; other correlations may widen the interval).
 */
export function bounds(e: SymLike, ranges: Readonly<Record<string, Range>>): Range {
  const atom = (a: Atom): Range => {
    switch (a.k) {
      case 'sym': {
        const r = ranges[a.name];
        if (!r) throw new Error(`shape symbol '${a.name}' has no declared bounds`);
        return r;
      }
      case 'floordiv': {
        const [x, y] = [range(a.a), range(a.b)];
        if (y.min <= 0 && y.max >= 0) return UNBOUNDED;
        // a/b over a box that excludes b = 0 is extreme at corners, and floor keeps order
        const q = [x.min / y.min, x.min / y.max, x.max / y.min, x.max / y.max].map(Math.floor);
        return { min: Math.min(...q), max: Math.max(...q) };
      }
      case 'mod': {
        const [x, y] = [range(a.a), range(a.b)];
        const d = constValue(a.b);
        if (d !== undefined && Math.floor(x.min / d) === Math.floor(x.max / d))
          return { min: floorMod(x.min, d), max: floorMod(x.max, d) };
        if (y.min > 0) return { min: 0, max: x.min >= 0 ? Math.min(x.max, y.max - 1) : y.max - 1 };
        if (y.max < 0) return { min: y.min + 1, max: 0 };
        return UNBOUNDED;
      }
      case 'min':
      case 'max': {
        const rs = a.args.map(range);
        const pick = a.k === 'min' ? Math.min : Math.max;
        return { min: pick(...rs.map((r) => r.min)), max: pick(...rs.map((r) => r.max)) };
      }
    }
  };
  const range = (x: SymExpr): Range => {
    let total: Range = { min: x.c, max: x.c };
    for (const t of x.terms) {
      const r = t.atoms.reduce((p, a) => times(p, atom(a)), { min: t.coef, max: t.coef });
      total = { min: total.min + r.min, max: total.max + r.max };
    }
    return total;
  };
  return range(lift(e));
}

/** A sum of products of plain symbols, c + Σ coef·Π symbols: the form the runtime evaluates. */
export interface Polynomial {
  c: number;
  terms: { coef: number; symbols: string[] }[];
}

/**
 * A Polynomial at least `e` at every value of its symbols within `ranges` (its coefficients may be
 * fractions): floor(a/b) counts as a/b and a mod b as b−1, for a constant b ≥ 1 and a dividend never
 * negative; undefined for min, max, another divisor or dividend, or such an atom in a term with a negative
 * coefficient.
 */
export function upperPolynomial(e: SymLike, ranges: Readonly<Record<string, Range>>): Polynomial | undefined {
  const x = typeof e === 'number' ? constant(e) : e;
  let sum: Polynomial = { c: x.c, terms: [] };
  for (const t of x.terms) {
    let product: Polynomial = { c: t.coef, terms: [] };
    for (const a of t.atoms) {
      const factor = a.k === 'sym' ? symbolPolynomial(a.name) : t.coef > 0 ? atomUpper(a, ranges) : undefined;
      // a product of upper bounds bounds the product only where no factor is negative
      if (!factor || (a.k === 'sym' && !(ranges[a.name]?.min >= 0))) return undefined;
      product = multiplyPolynomials(product, factor);
    }
    sum = { c: sum.c + product.c, terms: [...sum.terms, ...product.terms] };
  }
  return sum;
}

const symbolPolynomial = (name: string): Polynomial => ({ c: 0, terms: [{ coef: 1, symbols: [name] }] });

function atomUpper(a: Atom, ranges: Readonly<Record<string, Range>>): Polynomial | undefined {
  if (a.k !== 'floordiv' && a.k !== 'mod') return undefined;
  const b = constValue(a.b);
  if (b === undefined || b < 1 || bounds(a.a, ranges).min < 0) return undefined;
  if (a.k === 'mod') return { c: b - 1, terms: [] };
  const dividend = upperPolynomial(a.a, ranges);
  return dividend && multiplyPolynomials(dividend, { c: 1 / b, terms: [] });
}

export function multiplyPolynomials(p: Polynomial, q: Polynomial): Polynomial {
  const scaled = (terms: Polynomial['terms'], k: number) =>
    k === 0 ? [] : terms.map((t) => ({ coef: t.coef * k, symbols: t.symbols }));
  return {
    c: p.c * q.c,
    terms: [
      ...scaled(p.terms, q.c),
      ...scaled(q.terms, p.c),
      ...p.terms.flatMap((s) =>
        q.terms.map((t) => ({ coef: s.coef * t.coef, symbols: [...s.symbols, ...t.symbols] })),
      ),
    ],
  };
}
