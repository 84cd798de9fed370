/** A value's shape as the manifest lists it: numbers, and bounds for the dims known only at run time. */
import type { ShapeSymbolDecl, TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import type { Quotient, ShapeDim } from '../bundle/manifest.js';

/**
 * A dim that is `step` times a symbol counting the steps of a stepped dim (`--dim height=32..1024:32`)
 * is listed by the dim's own name with its step, so the runtime checks the size is a multiple of it.
 */
export function signatureShape(
  t: TensorType,
  ranges: Readonly<Record<string, sym.Range>>,
  symbols: readonly ShapeSymbolDecl[] = [],
): ShapeDim[] {
  if (!t.symbolic) return [...t.shape];
  return t.symbolic.map((d) => {
    if (typeof d === 'number') return d;
    const { min, max } = sym.bounds(d, ranges);
    const quotients: Quotient[] = [];
    const value = polynomialWith(d, quotients);
    if (!value)
      throw new Error(
        `a dim of the model's inputs or outputs is ${d.key}; the runtime sizes only sums of products of shape symbols and floor divisions of them by constants (fix the dims with --shape)`,
      );
    const { terms } = value;
    const plain = d.c === 0 && terms.length === 1 && terms[0].coef === 1 && terms[0].symbols.length === 1;
    if (plain && quotients.length === 0) return { name: terms[0].symbols[0], min, max };
    const single = d.c === 0 && terms.length === 1 && terms[0].symbols.length === 1 ? terms[0] : undefined;
    const stepOf = single && symbols.find((s) => s.name === single.symbols[0])?.stepOf;
    if (stepOf && stepOf.step === single!.coef && quotients.length === 0)
      return { name: stepOf.name, min, max, step: stepOf.step, value };
    return { name: d.key, min, max, value, ...(quotients.length > 0 && { quotients }) };
  });
}

/**
 * `e` as a Polynomial whose symbols may name floor divisions by positive constants (a Conv's or pool's
 * output width), each appended to `quotients` after those it reads; undefined for modulo, min, max or a
 * symbolic divisor.
 */
function polynomialWith(e: sym.SymExpr, quotients: Quotient[]): sym.Polynomial | undefined {
  const terms: sym.Polynomial['terms'] = [];
  for (const t of e.terms) {
    const symbols: string[] = [];
    for (const a of t.atoms) {
      if (a.k === 'sym') symbols.push(a.name);
      else {
        if (a.k !== 'floordiv') return undefined;
        const by = sym.constValue(a.b);
        const of = by !== undefined && by >= 1 ? polynomialWith(a.a, quotients) : undefined;
        if (!of) return undefined;
        if (!quotients.some((q) => q.name === a.key)) quotients.push({ name: a.key, of, by: by! });
        symbols.push(a.key);
      }
    }
    terms.push({ coef: t.coef, symbols });
  }
  return { c: e.c, terms };
}
