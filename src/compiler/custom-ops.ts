/**
 * Kernels as ONNX custom ops: a node of the kernel's domain and op type is bound to it — its inputs'
 * dtypes checked against the parameters, its attributes read with their declared types and defaults —
 * and lowers to the traced kernel, dims known only at run time included. Registered for one compile
 * (`registerKernels` returns the undo).
 */
import type { TensorType } from '../ir/graph.js';
import type { SymbolRanges } from '../kernels/extent.js';
import { isElementwiseDef, type ElementwiseDef } from '../kernel-lang/elementwise.js';
import { languageOp } from '../ops/elementwise/common.js';
import type { Kernel } from '../kernels/ir.js';
import * as sym from '../ir/symbolic.js';
import {
  declaredAttrs,
  findOp,
  OpError,
  registerOp,
  type LowerIO,
  type OpContext,
  type OpDef,
} from '../ops/registry.js';
import {
  bindAttrs,
  outputShapes,
  storageOf,
  traceKernel,
  type AttrValue,
  type KernelDef,
} from '../kernel-lang/kernel.js';

interface Bound {
  attrs: Record<string, AttrValue>;
  /** inputs' and outputs' shapes, a dim known only at run time as its expression */
  shapes: Record<string, sym.SymLike[]>;
}

/**
 * The node's input shapes and attributes, checked against the kernel's declarations. The input shapes
 * are `given` (with dims known only at run time, bounded by `ranges`), else the inputs' static shapes.
 */
function bind(
  def: KernelDef,
  ctx: OpContext,
  given?: readonly (readonly sym.SymLike[] | undefined)[],
  ranges: SymbolRanges = {},
): Bound {
  const { node, opset } = ctx;
  const fail = (message: string): never => {
    throw new OpError(node, opset, message);
  };
  const inputNames = Object.keys(def.inputs);
  const outputNames = Object.keys(def.outputs);
  if (node.inputs.length !== inputNames.length)
    fail(
      `kernel ${def.op} takes ${inputNames.length} inputs (${inputNames.join(', ')}), the node has ${node.inputs.length}`,
    );
  if (node.outputs.length !== outputNames.length)
    fail(
      `kernel ${def.op} has ${outputNames.length} outputs (${outputNames.join(', ')}), the node names ${node.outputs.length}`,
    );
  const shapes: Record<string, sym.SymLike[]> = {};
  inputNames.forEach((name, i) => {
    const t = ctx.inputs[i];
    if (!t) return fail(`input ${i} ('${name}' of kernel ${def.op}) is required`);
    const want = storageOf(def.inputs[name]);
    if (t.dtype !== want)
      fail(
        `input ${i} ("${node.inputs[i]}") has dtype ${t.dtype}; kernel ${def.op} takes ${want} for '${name}'`,
      );
    shapes[name] = [...(given?.[i] ?? t.shape)];
  });
  for (const name of Object.keys(node.attrs))
    if (!def.attrs[name])
      fail(
        `attribute '${name}' is not declared by kernel ${def.op} (declared: ${Object.keys(def.attrs).join(', ') || 'none'})`,
      );
  try {
    const attrs = bindAttrs(def, declaredAttrs(node, def.attrs));
    return { attrs, shapes: { ...shapes, ...outputShapes(def, shapes, attrs, ranges) } };
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** The kernel traced for the node's buffers and the shapes bound. */
function lowered(def: KernelDef, ctx: OpContext, io: LowerIO, bound: Bound, ranges?: SymbolRanges): Kernel[] {
  const bufs = Object.fromEntries([
    ...Object.keys(def.inputs).map((name, i) => [name, io.inputs[i]!] as const),
    ...Object.keys(def.outputs).map((name, i) => [name, io.outputs[i]] as const),
  ]);
  try {
    return [traceKernel(def, ctx.node.name, bufs, bound.shapes, bound.attrs, ranges)];
  } catch (err) {
    throw new OpError(ctx.node, ctx.opset, (err as Error).message);
  }
}

/**
 * The OpDef that binds nodes to `def`. With dims known only at run time the body sees them as sizes
 * and the traced kernel reads them from the dims block.
 */
function customOp(def: KernelDef): OpDef {
  return {
    infer(ctx): TensorType[] {
      const { shapes } = bind(def, ctx);
      return Object.entries(def.outputs).map(([name, t]) => ({
        dtype: storageOf(t),
        shape: shapes[name] as number[],
      }));
    },
    lower: (ctx, io) => lowered(def, ctx, io, bind(def, ctx)),
    runTimeDims: {
      shapes: (ctx, inputs, ranges) => {
        const { shapes } = bind(def, ctx, inputs, ranges);
        return Object.keys(def.outputs).map((name) => shapes[name]);
      },
      lower: (ctx, io, inputs, ranges) => lowered(def, ctx, io, bind(def, ctx, inputs, ranges), ranges),
    },
  };
}

/**
 * Registers each kernel — and each elementwise op, as the built-in ones are (fusible) — for its domain
 * and op; returns what unregisters them all. Two kernels for one op, or a kernel for an op Kiln already
 * implements, are refused.
 */
export function registerKernels(defs: readonly (KernelDef | ElementwiseDef)[]): () => void {
  const seen = new Map<string, KernelDef | ElementwiseDef>();
  for (const def of defs) {
    const key = `${def.domain}:${def.op}`;
    if (seen.has(key))
      throw new Error(`two kernels implement ${key} (${seen.get(key)!.site} and ${def.site})`);
    seen.set(key, def);
    if (findOp(def.op, def.domain, Number.MAX_SAFE_INTEGER))
      throw new Error(
        `kernel ${def.op} (${def.site}): Kiln already implements ${key}; pick another op name or domain`,
      );
  }
  const undo = defs.map((def) =>
    registerOp(def.op, isElementwiseDef(def) ? languageOp(def) : customOp(def), def.domain),
  );
  return () => undo.forEach((u) => u());
}
