/**
 * `kernel({...})`: a kernel written in TypeScript — typed tensor parameters, typed attributes with
 * defaults, a shape function (over static dims and dims known only at run time) and a body. The body is traced into one Kernel IR
 * kernel (`traceKernel`, checked by the verifier) and also runs as plain JavaScript on numbers
 * (`runReference`), the reference tests compare the compiled code with.
 */
import type { DType } from '../ir/dtype.js';
import type { BufRef, Kernel } from '../kernels/ir.js';
import type { SymbolRanges } from '../kernels/extent.js';
import { verifyKernel } from '../kernels/verify.js';
import * as sym from '../ir/symbolic.js';
import { KernelContext } from './context.js';
import { Scope } from './scope.js';
import { KernelTraceError, userFrame, userSite } from './site.js';
import { Tensor, toDim, type Dim, type TensorData } from './tensor.js';
import { Value, type ElementType } from './value.js';

/** An attribute declaration: its type and default (none: the attribute is required). */
export type AttrDecl = NumberAttr | StringAttr | ListAttr;
export interface NumberAttr {
  readonly kind: 'float' | 'int';
  readonly default?: number;
}
export interface StringAttr {
  readonly kind: 'string';
  readonly default?: string;
  /** the values it may take (none: any string) */
  readonly oneOf?: readonly string[];
}
export interface ListAttr {
  readonly kind: 'floats' | 'ints';
  readonly default?: readonly number[];
}
/** An attribute's value: a string for a string attribute, numbers for a list one, else a number. */
export type AttrValue = number | string | readonly number[];
/**
 * What the body (or an elementwise fn) gets for an attribute: a string, the numbers of a list (plain
 * JavaScript at trace time; a number operand takes the other operand's type), or a constant Value.
 */
export type AttrParam<D> = D extends StringAttr ? string : D extends ListAttr ? readonly number[] : Value;
type AttrNumber<D> = D extends StringAttr ? string : D extends ListAttr ? readonly number[] : number;

/** A float attribute (an ONNX FLOAT; an INT is taken as the same float). */
export const float = (dflt?: number): NumberAttr => ({
  kind: 'float',
  ...(dflt !== undefined && { default: dflt }),
});
/** An int attribute (an ONNX INT). */
export const int = (dflt?: number): NumberAttr => ({
  kind: 'int',
  ...(dflt !== undefined && { default: dflt }),
});
/** A list of floats attribute (an ONNX FLOATS; INTS are taken as the same floats). */
export const floats = (dflt?: readonly number[]): ListAttr => ({
  kind: 'floats',
  ...(dflt !== undefined && { default: [...dflt] }),
});
/** A list of ints attribute (an ONNX INTS). */
export const ints = (dflt?: readonly number[]): ListAttr => ({
  kind: 'ints',
  ...(dflt !== undefined && { default: [...dflt] }),
});
/**
 * A string attribute (an ONNX STRING), one of `oneOf` when given. The body gets it as a plain string:
 * branch on it at trace time.
 */
export const string = (dflt?: string, oneOf?: readonly string[]): StringAttr => ({
  kind: 'string',
  ...(dflt !== undefined && { default: dflt }),
  ...(oneOf && { oneOf }),
});

/** What the shape function sees of an input: its dims, numbers or (known only at run time) sizes. */
export interface TensorInfo {
  readonly dtype: ElementType;
  readonly shape: readonly Dim[];
}

type Types = Record<string, ElementType>;
export type Attrs = Record<string, AttrDecl>;

export interface KernelSpec<I extends Types, O extends Types, A extends Attrs> {
  /** the ONNX domain of nodes this kernel implements (default 'kiln.custom') */
  domain?: string;
  /** the op type of those nodes, and the kernel's name */
  op: string;
  /** input parameters in node input order, with their element types */
  inputs: I;
  /** output parameters in node output order */
  outputs: O;
  attrs?: A;
  /** output shapes from input shapes and attribute values (a dim: a number, or a size of the inputs) */
  shape(
    inputs: { readonly [K in keyof I]: TensorInfo },
    attrs: { readonly [K in keyof A]: AttrNumber<A[K]> },
  ): {
    readonly [K in keyof O]: readonly Dim[];
  };
  /** the computation; `k` has the loops, locals and reductions */
  body(
    params: { readonly [K in keyof I | keyof O]: Tensor } & { readonly [K in keyof A]: AttrParam<A[K]> },
    k: KernelContext,
  ): void;
}

const BRAND = Symbol.for('kiln.kernel');

/** A body's parameter: a tensor, or an attribute as the body sees it. */
type Param = Tensor | Value | string | readonly number[];

/** A kernel definition, as `kernel()` returns it. */
export interface KernelDef {
  readonly [BRAND]: true;
  readonly domain: string;
  readonly op: string;
  readonly inputs: Types;
  readonly outputs: Types;
  readonly attrs: Attrs;
  /** where `kernel()` was called, for errors */
  readonly site: string | undefined;
  readonly shape: (
    inputs: Record<string, TensorInfo>,
    attrs: Record<string, AttrValue>,
  ) => Record<string, readonly Dim[]>;
  readonly body: (params: Record<string, Param>, k: KernelContext) => void;
}

const ELEMENT_TYPES: readonly ElementType[] = ['f32', 'i32'];

export function kernel<I extends Types, O extends Types, A extends Attrs = Record<never, AttrDecl>>(
  spec: KernelSpec<I, O, A>,
): KernelDef {
  const site = userSite();
  const fail = (message: string): never => {
    throw new KernelTraceError(String(spec.op), site, message);
  };
  if (typeof spec.op !== 'string' || !/^[A-Za-z_][\w.-]*$/.test(spec.op))
    fail(`op must be a name (letters, digits, _ . -), got ${JSON.stringify(spec.op)}`);
  const domain = customDomain(spec.domain, fail);
  const names = new Set<string>();
  const groups: [string, Record<string, unknown>][] = [
    ['inputs', spec.inputs],
    ['outputs', spec.outputs],
    ['attrs', spec.attrs ?? {}],
  ];
  for (const [group, entries] of groups)
    for (const [name, decl] of Object.entries(entries)) {
      if (names.has(name))
        fail(`'${name}' names two parameters; inputs, outputs and attrs share one namespace`);
      names.add(name);
      if (group !== 'attrs' && !ELEMENT_TYPES.includes(decl as ElementType))
        fail(`${group}.${name} is ${JSON.stringify(decl)}; element types are ${ELEMENT_TYPES.join(', ')}`);
    }
  if (Object.keys(spec.outputs).length === 0) fail('a kernel needs at least one output');
  return {
    [BRAND]: true,
    domain,
    op: spec.op,
    inputs: spec.inputs,
    outputs: spec.outputs,
    attrs: spec.attrs ?? {},
    site,
    shape: spec.shape as KernelDef['shape'],
    body: spec.body as KernelDef['body'],
  };
}

/** The ONNX domain a kernel or a user's elementwise op declares (default 'kiln.custom'), checked. */
export function customDomain(domain: string | undefined, fail: (message: string) => never): string {
  if (domain === '' || domain === 'ai.onnx')
    fail('a kernel cannot take the default ONNX domain; name your own (e.g. com.example)');
  return domain ?? 'kiln.custom';
}

export function isKernelDef(x: unknown): x is KernelDef {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
}

/** The storage dtype of an element type. */
export const storageOf = (t: ElementType): DType => (t === 'f32' ? 'float32' : 'int32');

/** What names a kernel or an elementwise op in errors, and declares its attributes. */
type Declared = Pick<KernelDef, 'op' | 'site' | 'attrs'>;

const defError = (def: Declared, message: string) => new KernelTraceError(def.op, def.site, message);

/** Attribute values: `given` checked against the declarations, defaults filled in. */
export function bindAttrs(def: Declared, given: Record<string, AttrValue> = {}): Record<string, AttrValue> {
  for (const name of Object.keys(given))
    if (!def.attrs[name])
      throw defError(
        def,
        `unknown attribute '${name}' (declared: ${Object.keys(def.attrs).join(', ') || 'none'})`,
      );
  return Object.fromEntries(
    Object.entries(def.attrs).map(([name, decl]) => {
      const value = given[name] ?? decl.default;
      if (value === undefined) throw defError(def, `attribute '${name}' is required (it has no default)`);
      const problem = attrProblem(decl, value);
      if (problem) throw defError(def, `attribute '${name}' ${problem}`);
      return [name, value];
    }),
  );
}

/** What is wrong with `value` for an attribute declared `decl`, or undefined when it fits. */
function attrProblem(decl: AttrDecl, value: AttrValue): string | undefined {
  const got = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `[${value}]` : value;
  const list = decl.kind === 'ints' || decl.kind === 'floats';
  const what = {
    float: 'a float',
    int: 'an int',
    string: 'a string',
    floats: 'a list of floats',
    ints: 'a list of ints',
  }[decl.kind];
  if (
    list
      ? !Array.isArray(value)
      : Array.isArray(value) || (decl.kind === 'string') !== (typeof value === 'string')
  )
    return `is ${what}, got ${got}`;
  const numbers = list ? (value as readonly unknown[]) : [value];
  if (decl.kind !== 'string' && !numbers.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return `is ${what}, got ${got}`;
  if ((decl.kind === 'int' || decl.kind === 'ints') && !numbers.every((x) => Number.isInteger(x)))
    return `is ${what}, got ${got}`;
  if (decl.kind === 'string' && decl.oneOf && !decl.oneOf.includes(value as string))
    return `must be one of ${decl.oneOf.join(', ')}, got ${got}`;
  return undefined;
}

/**
 * An attribute as the body sees it: a string as it is, a list as its numbers, a number as a constant (a
 * float one of type `t`).
 */
export function attrParam(
  scope: Scope,
  decl: AttrDecl,
  value: AttrValue,
  t: 'f32' | 'f64' = 'f32',
): string | readonly number[] | Value {
  if (decl.kind === 'string') return value as string;
  if (decl.kind === 'ints' || decl.kind === 'floats') return Object.freeze([...(value as number[])]);
  return Value.constant(scope, decl.kind === 'float' ? t : 'i32', value as number);
}

/**
 * Output shapes from the shape function, checked: each dim a whole number or, where the inputs have
 * dims known only at run time (bounded by `ranges`), a shape expression over them.
 */
export function outputShapes(
  def: KernelDef,
  inputShapes: Record<string, readonly sym.SymLike[]>,
  attrs: Record<string, AttrValue>,
  ranges: SymbolRanges = {},
): Record<string, sym.SymLike[]> {
  const scope = new Scope(def.op, true, ranges);
  const infos = Object.fromEntries(
    Object.entries(def.inputs).map(([name, t]) => [
      name,
      { dtype: t, shape: inputShapes[name].map((d, i) => toDim(scope, d, `${name}.shape[${i}]`)) },
    ]),
  );
  let shapes: Record<string, readonly Dim[]>;
  try {
    shapes = def.shape(infos, attrs);
  } catch (err) {
    if (err instanceof KernelTraceError) throw err;
    throw defError(def, `shape function: ${(err as Error).message}`);
  }
  const dimOf = (d: unknown): sym.SymLike | undefined =>
    typeof d === 'number'
      ? Number.isInteger(d) && d >= 0
        ? d
        : undefined
      : d instanceof Value && d.t === 'i32' && d.exact !== undefined && scope.bounds(d.exact).min >= 0
        ? d.exact
        : undefined;
  return Object.fromEntries(
    Object.keys(def.outputs).map((name) => {
      const s = shapes?.[name];
      const dims = Array.isArray(s) ? s.map(dimOf) : [];
      if (!Array.isArray(s) || !dims.every((d) => d !== undefined))
        throw defError(
          def,
          `shape function: output '${name}' has shape ${Array.isArray(s) ? `[${s.join(', ')}]` : JSON.stringify(s)}, not a list of whole numbers and sizes`,
        );
      return [name, dims as sym.SymLike[]];
    }),
  );
}

/** One Kernel IR kernel from the body, with the given buffers; verified. */
export function traceKernel(
  def: KernelDef,
  name: string,
  bufs: Record<string, BufRef>,
  shapes: Record<string, readonly sym.SymLike[]>,
  attrs: Record<string, AttrValue>,
  ranges: SymbolRanges = {},
): Kernel {
  const scope = new Scope(def.op, true, ranges);
  const params = parameters(def, scope, shapes, attrs, (n) => ({ buf: bufs[n] }));
  runBody(def, params, scope);
  const traced: Kernel = { name, body: scope.body() };
  try {
    verifyKernel(
      traced,
      Object.entries(ranges).map(([symbol, r]) => ({ name: symbol, ...r })),
    );
  } catch (err) {
    throw defError(def, `the traced kernel is not valid Kernel IR: ${(err as Error).message}`);
  }
  return traced;
}

/** A tensor for the reference run. */
export interface RefTensor {
  dims: readonly number[];
  data: TensorData;
}

/** Runs the body as plain JavaScript on numbers: the reference the compiled kernel must match. */
export function runReference(
  def: KernelDef,
  inputs: Record<string, RefTensor>,
  attrValues: Record<string, AttrValue> = {},
): Record<string, { dtype: DType; dims: number[]; data: TensorData }> {
  const attrs = bindAttrs(def, attrValues);
  for (const [name, t] of Object.entries(def.inputs)) {
    const given = inputs[name];
    const want = t === 'f32' ? Float32Array : Int32Array;
    if (!given) throw defError(def, `reference run: missing input '${name}'`);
    if (!(given.data instanceof want))
      throw defError(def, `reference run: input '${name}' must be a ${want.name}`);
  }
  const inShapes = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, t.dims]));
  const outShapes = outputShapes(def, inShapes, attrs) as Record<string, number[]>;
  const shapes = { ...inShapes, ...outShapes };
  const outData = Object.fromEntries(
    Object.entries(def.outputs).map(([n, t]) => {
      const size = outShapes[n].reduce((a, b) => a * b, 1);
      return [n, t === 'f32' ? new Float32Array(size) : new Int32Array(size)];
    }),
  );
  const scope = new Scope(def.op, false);
  const params = parameters(def, scope, shapes, attrs, (n) => ({ data: inputs[n]?.data ?? outData[n] }));
  runBody(def, params, scope);
  return Object.fromEntries(
    Object.entries(def.outputs).map(([n, t]) => [
      n,
      { dtype: storageOf(t), dims: outShapes[n], data: outData[n] },
    ]),
  );
}

/**
 * Runs the body; JavaScript the language has no construct for (`x.foo()`, a missing parameter) fails in
 * the user's code with a plain error, reported like a trace error at the user's line.
 */
function runBody(def: KernelDef, params: Record<string, Param>, scope: Scope): void {
  try {
    def.body(params, new KernelContext(scope));
  } catch (err) {
    if (err instanceof KernelTraceError || !(err instanceof Error)) throw err;
    throw new KernelTraceError(def.op, userFrame(err.stack ?? '') ?? def.site, `${err.name}: ${err.message}`);
  }
}

function parameters(
  def: KernelDef,
  scope: Scope,
  shapes: Record<string, readonly sym.SymLike[]>,
  attrs: Record<string, AttrValue>,
  storage: (name: string) => { buf?: BufRef; data?: TensorData },
): Record<string, Param> {
  const tensor =
    (role: 'input' | 'output') =>
    ([name, t]: [string, ElementType]) => {
      const { buf, data } = storage(name);
      return [name, new Tensor(scope, name, t, shapes[name], role, buf, data)];
    };
  return {
    ...Object.fromEntries(Object.entries(def.inputs).map(tensor('input'))),
    ...Object.fromEntries(Object.entries(def.outputs).map(tensor('output'))),
    ...Object.fromEntries(
      Object.entries(def.attrs).map(([name, decl]) => [name, attrParam(scope, decl, attrs[name])]),
    ),
  };
}
