/**
 * Operator definitions, one family per file (ONNX Runtime Web style): validate inputs → infer output
 * types → build kernels. Each file registers its ops with one `registerOp` line per op.
 */
import type { AttrValue, FedElement, Graph, Node, TensorType } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';
import type { DType } from '../ir/dtype.js';
import type { BufRef, Expr, Kernel } from '../kernels/ir.js';
import type { Range, SymLike } from '../ir/symbolic.js';
import type { AttrDecl } from '../kernel-lang/kernel.js';
import { printable } from '../text/printable.js';

export interface OpContext {
  node: Node;
  /** opset version of the node's domain */
  opset: number;
  /** input types; undefined for an omitted optional input */
  inputs: (TensorType | undefined)[];
  /** input values when known at compile time (initializers, folded constants, --const) */
  consts: (HostTensor | undefined)[];
}

/**
 * The opset a node is defined under: its domain's import, else the default domain's (a custom domain
 * a model does not import, such as Kiln's own), else 1.
 */
export function opsetOf(opsets: Record<string, number>, node: Node): number {
  return opsets[node.domain] ?? opsets[''] ?? 1;
}

/**
 * A node's OpContext — the one place one is built from a node: its opset from the graph's imports
 * (opsetOf), its input types and compile-time values from where they are looked up.
 */
export function contextOf(
  node: Node,
  opsets: Record<string, number>,
  typeOf: (name: string) => TensorType | undefined,
  constOf: (name: string) => HostTensor | undefined,
): OpContext {
  return {
    node,
    opset: opsetOf(opsets, node),
    inputs: node.inputs.map((n) => (n === '' ? undefined : typeOf(n))),
    consts: node.inputs.map((n) => (n === '' ? undefined : constOf(n))),
  };
}

/** A node's OpContext in `graph`: its types and initializers (contextOf). */
export const graphContextOf = (graph: Graph, node: Node): OpContext =>
  contextOf(
    node,
    graph.opsets,
    (n) => graph.types.get(n),
    (n) => graph.initializers.get(n),
  );

export interface LowerIO {
  inputs: (BufRef | undefined)[];
  outputs: BufRef[];
  /** a temporary buffer live only during this node's kernels */
  scratch(dtype: DType, length: number): BufRef;
  /**
   * The kernels also feed the WGSL generator (a `--targets webgpu` bundle): prefer loop nests whose
   * outer loops run in parallel over outputs to forms tuned for one CPU core (window-runs.ts's row runs
   * measured 7× slower on the GPU path).
   */
  forGpu?: boolean;
  /**
   * The data-dependent sizes of this node's outputs (passes/data-shapes.ts), in the order data-shapes
   * declares them: the shape symbol kernels read with `dim`, and for a size the node computes during the
   * run (NonZero's count) `word`, a one-element int32 buffer on the symbol's word of the dims block that
   * the node's kernels store the size into before later kernels read it.
   */
  sizes?: { symbol: string; word?: BufRef; fed?: FedElement }[];
}

export interface OpDef {
  /** lowest default-domain opset whose semantics this definition implements (default 1) */
  sinceVersion?: number;
  /** Validate the inputs and attributes and return output types. Throw OpError on bad input. */
  infer(ctx: OpContext): TensorType[];
  /** Build kernels computing the outputs. Absent for ops that only fold or alias. */
  lower?(ctx: OpContext, io: LowerIO): Kernel[];
  /**
   * For ops that map broadcast inputs to one output element by element: the output element (in its
   * compute type) from the input elements. Lets the fusion pass merge chains of such ops into one kernel.
   */
  elementwise?(ctx: OpContext, values: Expr[]): Expr;
  /**
   * `lower` applies the Relu/Clip that fusion folded into the node (`fusedActivation`) itself; otherwise
   * the compiler applies it to the lowered kernels (`applyActivation`, src/kernels/rewrite/epilogue.ts).
   */
  fusesActivation?: boolean;
  /**
   * An op whose kernels take dims known only at run time themselves (kernel-language custom ops): the
   * output shape expressions from the inputs' (`ranges` bounds their symbols), and the kernels for operands
   * of those shapes. Such a node is lowered only here, never row block by row block.
   */
  runTimeDims?: {
    shapes(
      ctx: OpContext,
      inputs: readonly (readonly SymLike[] | undefined)[],
      ranges: Readonly<Record<string, Range>>,
    ): SymLike[][];
    lower(
      ctx: OpContext,
      io: LowerIO,
      inputs: readonly (readonly SymLike[] | undefined)[],
      ranges: Readonly<Record<string, Range>>,
    ): Kernel[];
  };
  /** Output 0 is input 0's bytes reinterpreted (Reshape, Squeeze, Identity...): no kernel. */
  alias?: boolean;
  /**
   * Compute outputs at compile time from types (and known consts) even when inputs are not
   * constant, e.g. Shape and Size. Return undefined when not possible.
   */
  fold?(ctx: OpContext): HostTensor[] | undefined;
}

/** A user-facing error about one node: names op, node and opset. */
export class OpError extends Error {
  constructor(node: Node, opset: number, message: string) {
    super(printable(`${node.op} node "${node.name}" (opset ${opset}): ${message}`));
    this.name = 'OpError';
  }
}

const REGISTRY = new Map<string, OpDef[]>();

/**
 * Register an op for the default ONNX domain (or `domain`). Several versions may be registered. Returns
 * what unregisters it again (user kernels are registered for one compile).
 */
export function registerOp(op: string, def: OpDef, domain = ''): () => void {
  const key = `${domain}::${op}`;
  const list = REGISTRY.get(key) ?? [];
  list.push(def);
  list.sort((a, b) => (b.sinceVersion ?? 1) - (a.sinceVersion ?? 1));
  REGISTRY.set(key, list);
  return () => {
    const at = list.indexOf(def);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0 && REGISTRY.get(key) === list) REGISTRY.delete(key);
  };
}

/** The definition for an op at an opset: the newest registered version not newer than `opset`. */
export function findOp(op: string, domain: string, opset: number): OpDef | undefined {
  const list = REGISTRY.get(`${domain}::${op}`);
  return list?.find((d) => (d.sinceVersion ?? 1) <= opset);
}

export function registeredOps(): string[] {
  return [...REGISTRY.keys()].map((k) => k.replace(/^::/, ''));
}

// ---- attribute helpers -------------------------------------------------------------------------
// Each checks the attribute's type where it is read: a wrong type is one clear error naming the node,
// the attribute, the type expected and the type found, never a failure deeper in the op.

/**
 * What an attribute value holds. The Graph IR keeps ints and floats as numbers, so an integral number
 * (an INT, or a FLOAT such as 2.0) is only "a number"; any other is a float.
 */
function attrKind(a: AttrValue): string {
  if (typeof a === 'number') return Number.isInteger(a) ? `number ${a}` : `float ${a}`;
  if (typeof a === 'string') return 'a string';
  if (Array.isArray(a)) {
    if (a.length === 0) return 'an empty list';
    if (a.every((x) => typeof x === 'number'))
      return a.every(Number.isInteger) ? 'a list of numbers' : 'a list of floats';
    if (a.every((x) => typeof x === 'string')) return 'a list of strings';
    return a.every((x) => 'dtype' in x) ? 'a list of tensors' : 'a list of graphs';
  }
  return 'dtype' in a ? 'a tensor' : 'a graph';
}

function attribute<V>(
  node: Node,
  name: string,
  dflt: V | undefined,
  expected: string,
  matches: (a: AttrValue) => boolean,
): V {
  const a = node.attrs[name];
  if (a === undefined) {
    if (dflt === undefined)
      throw new Error(printable(`${node.op} node "${node.name}": missing attribute '${name}'`));
    return dflt;
  }
  if (!matches(a))
    throw new Error(
      printable(
        `${node.op} node "${node.name}": attribute '${name}' must be ${expected}, got ${attrKind(a)}`,
      ),
    );
  return a as V;
}

const isNumberList = (a: AttrValue, item: (x: number) => boolean) =>
  Array.isArray(a) && a.every((x) => typeof x === 'number' && item(x));

export function attrInt(node: Node, name: string, dflt?: number): number {
  return attribute(node, name, dflt, 'an int', (a) => typeof a === 'number' && Number.isInteger(a));
}

/** A float attribute; an int is taken as the same float. */
export function attrFloat(node: Node, name: string, dflt?: number): number {
  return attribute(node, name, dflt, 'a float', (a) => typeof a === 'number');
}

export function attrInts(node: Node, name: string, dflt?: number[]): number[] {
  return attribute(node, name, dflt, 'a list of ints', (a) => isNumberList(a, Number.isInteger));
}

/** A list of float attributes; ints are taken as the same floats. */
export function attrFloats(node: Node, name: string, dflt?: number[]): number[] {
  return attribute(node, name, dflt, 'a list of floats', (a) => isNumberList(a, () => true));
}

export function attrString(node: Node, name: string, dflt?: string): string {
  return attribute(node, name, dflt, 'a string', (a) => typeof a === 'string');
}

/** A node's attributes as kernel-language declarations declare them: each read with its type and default. */
export function declaredAttrs(
  node: Node,
  decls: Readonly<Record<string, AttrDecl>>,
): Record<string, number | string | readonly number[]> {
  const read = (name: string, decl: AttrDecl) => {
    switch (decl.kind) {
      case 'string':
        return attrString(node, name, decl.default);
      case 'float':
        return attrFloat(node, name, decl.default);
      case 'int':
        return attrInt(node, name, decl.default);
      case 'floats':
        return attrFloats(node, name, decl.default && [...decl.default]);
      case 'ints':
        return attrInts(node, name, decl.default && [...decl.default]);
    }
  };
  return Object.fromEntries(Object.entries(decls).map(([name, decl]) => [name, read(name, decl)]));
}

/** Normalize a possibly negative axis against a rank; throws a clear message when out of range. */
export function normAxis(axis: number, rank: number, ctx: OpContext): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new OpError(ctx.node, ctx.opset, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Require input i to be present and return its type. */
export function inputType(ctx: OpContext, i: number): TensorType {
  const t = ctx.inputs[i];
  if (!t) throw new OpError(ctx.node, ctx.opset, `input ${i} is required`);
  return t;
}

/** Require input i to be known at compile time (e.g. a Reshape shape) and return it. */
export function constInput(ctx: OpContext, i: number, what: string): HostTensor {
  const t = ctx.consts[i];
  if (!t)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `${what} (input ${i}, "${ctx.node.inputs[i]}") must be known at compile time; pass it with --const or fix dynamic shapes with --shape`,
    );
  return t;
}
