/**
 * `elementwise({...})`: an op written as one expression per element, y = fn(inputs, attributes), rather
 * than a loop body. Its lowering inlines the traced expression where the op's elements are computed, so
 * the fusion pass can merge it into elementwise chains like any built-in elementwise op (the built-in
 * activations are written so: src/ops/elementwise/activation.ts). It traces at the compute type of the
 * tensors it meets — f32 for float16 and float32, f64 for float64 — and runs on numbers as the reference.
 */
import type { Expr } from '../kernels/ir.js';
import {
  attrParam,
  bindAttrs,
  customDomain,
  type AttrDecl,
  type AttrParam,
  type AttrValue,
  type Attrs,
} from './kernel.js';
import { Scope } from './scope.js';
import { KernelTraceError, userFrame, userSite } from './site.js';
import { Value } from './value.js';

/** The float compute types an elementwise op traces at. */
export type FloatType = 'f32' | 'f64';

export interface ElementwiseSpec<I extends string, A extends Attrs> {
  /** the ONNX domain of the nodes it implements as a custom op (`--kernels`; default 'kiln.custom') */
  domain?: string;
  /** the op type (and the name in errors) */
  op: string;
  /** input names in node input order; inputs broadcast together */
  inputs: readonly I[];
  attrs?: A;
  /** the output element from the input elements and the attributes (constants of the same type) */
  fn(params: { readonly [K in I]: Value } & { readonly [K in keyof A]: AttrParam<A[K]> }): Value;
}

const BRAND = Symbol.for('kiln.elementwise');

export interface ElementwiseDef {
  readonly [BRAND]: true;
  /** the domain it binds as a custom op (the built-ins register theirs in the default domain) */
  readonly domain: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrDecl>>;
  /** where `elementwise()` was called, for errors */
  readonly site: string | undefined;
  readonly fn: (params: Record<string, Value | string | readonly number[]>) => Value;
}

export function elementwise<I extends string, A extends Attrs = Record<never, AttrDecl>>(
  spec: ElementwiseSpec<I, A>,
): ElementwiseDef {
  const site = userSite();
  const fail = (message: string): never => {
    throw new KernelTraceError(String(spec.op), site, message);
  };
  if (typeof spec.op !== 'string' || !/^[A-Za-z_][\w.-]*$/.test(spec.op))
    fail(`op must be a name (letters, digits, _ . -), got ${JSON.stringify(spec.op)}`);
  const domain = customDomain(spec.domain, fail);
  if (spec.inputs.length === 0) fail('an elementwise op needs at least one input');
  const names = [...spec.inputs, ...Object.keys(spec.attrs ?? {})];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) fail(`'${twice}' names two parameters; inputs and attrs share one namespace`);
  return {
    [BRAND]: true,
    domain,
    op: spec.op,
    inputs: spec.inputs,
    attrs: spec.attrs ?? {},
    site,
    fn: spec.fn as ElementwiseDef['fn'],
  };
}

export function isElementwiseDef(x: unknown): x is ElementwiseDef {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
}

/** Runs `fn` on values made by `input` in `scope`; the result must be a float of type `t`. */
function apply(
  def: ElementwiseDef,
  scope: Scope,
  t: FloatType,
  input: (i: number) => Value,
  attrValues: Record<string, AttrValue>,
): Value {
  const attrs = bindAttrs(def, attrValues);
  const params: Record<string, Value | string | readonly number[]> = {
    ...Object.fromEntries(def.inputs.map((name, i) => [name, input(i)])),
    ...Object.fromEntries(
      Object.entries(attrs).map(([name, x]) => [name, attrParam(scope, def.attrs[name], x, t)]),
    ),
  };
  let y: unknown;
  try {
    y = def.fn(params);
  } catch (err) {
    if (err instanceof KernelTraceError || !(err instanceof Error)) throw err;
    throw new KernelTraceError(def.op, userFrame(err.stack ?? '') ?? def.site, `${err.name}: ${err.message}`);
  }
  if (!(y instanceof Value) || y.t !== t)
    throw new KernelTraceError(
      def.op,
      def.site,
      `fn must return a ${t} value (the inputs' type), got ${y instanceof Value ? `a ${y.t} value` : String(y)}`,
    );
  return y;
}

/** The output element as a Kernel IR expression over `values`, the input elements (all f32 or all f64). */
export function traceElementwise(
  def: ElementwiseDef,
  values: readonly Expr[],
  attrs: Record<string, AttrValue> = {},
): Expr {
  const t = values[0]?.t;
  if (values.length !== def.inputs.length || (t !== 'f32' && t !== 'f64') || values.some((x) => x.t !== t))
    throw new KernelTraceError(
      def.op,
      def.site,
      `takes ${def.inputs.length} f32 or f64 input(s), got ${values.map((x) => x.t).join(', ') || 'none'}`,
    );
  const scope = new Scope(def.op, true);
  return apply(def, scope, t, (i) => new Value(scope, t, values[i], undefined), attrs).expr!;
}

/**
 * The output element computed on numbers: the reference. At f32 each operation is rounded to float32,
 * as the compiled code computes it.
 */
export function elementwiseReference(
  def: ElementwiseDef,
  inputs: readonly number[],
  attrs: Record<string, AttrValue> = {},
  t: FloatType = 'f32',
): number {
  if (inputs.length !== def.inputs.length)
    throw new KernelTraceError(def.op, def.site, `takes ${def.inputs.length} input(s), got ${inputs.length}`);
  const scope = new Scope(def.op, false);
  return apply(def, scope, t, (i) => Value.constant(scope, t, inputs[i]), attrs).num!;
}
