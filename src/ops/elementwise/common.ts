/** Dtype groups, validation and the broadcasting elementwise kernel shared by every op in this folder. */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import { sizeOf } from '../../ir/tensor.js';
import type { BufRef, Expr, Kernel, Scalar } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  cnst,
  forEachIndex,
  i32,
  linearIndex,
  load,
  parallelLoop,
  store,
  stridesOf,
  v,
} from '../../kernels/build.js';
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import { traceElementwise, type ElementwiseDef } from '../../kernel-lang/elementwise.js';
import { bindAttrs } from '../../kernel-lang/kernel.js';
import { KernelTraceError } from '../../kernel-lang/site.js';
import { OpError, declaredAttrs, type LowerIO, type OpContext, type OpDef } from '../registry.js';

export const FLOATS: readonly DType[] = ['float16', 'float32', 'float64'];
export const SIGNED_INTS: readonly DType[] = ['int8', 'int16', 'int32', 'int64'];
export const UNSIGNED_INTS: readonly DType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
export const INTS: readonly DType[] = [...SIGNED_INTS, ...UNSIGNED_INTS];
export const SIGNED: readonly DType[] = [...FLOATS, ...SIGNED_INTS];
export const NUMERIC: readonly DType[] = [...FLOATS, ...INTS];
export const NON_STRING: readonly DType[] = [...NUMERIC, 'bool'];

export const isUnsigned = (dtype: DType): boolean => UNSIGNED_INTS.includes(dtype);
export const isFloatType = (dtype: DType): boolean => FLOATS.includes(dtype);

/** Input i, required, with a dtype from `allowed`; the error lists what is accepted. */
export function typedInput(ctx: OpContext, i: number, allowed: readonly DType[]): TensorType {
  const t = ctx.inputs[i];
  if (!t) throw new OpError(ctx.node, ctx.opset, `input ${i} is required`);
  if (t.dtype === 'string')
    throw new OpError(
      ctx.node,
      ctx.opset,
      `input ${i} ("${ctx.node.inputs[i]}"): string tensors are not supported`,
    );
  if (!allowed.includes(t.dtype))
    throw new OpError(
      ctx.node,
      ctx.opset,
      `input ${i} ("${ctx.node.inputs[i]}") has dtype ${t.dtype}; expected one of ${allowed.join(', ')}`,
    );
  return t;
}

/** All present inputs must share one dtype (T in the ONNX signature). */
export function requireSameDtype(ctx: OpContext, types: readonly TensorType[]): DType {
  const dtype = types[0].dtype;
  types.forEach((t, i) => {
    if (t.dtype !== dtype)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `inputs must share one dtype; input 0 is ${dtype}, input ${i} is ${t.dtype}`,
      );
  });
  return dtype;
}

export function broadcastOrThrow(ctx: OpContext, shapes: readonly (readonly number[])[]): number[] {
  try {
    return broadcastShapes(shapes);
  } catch (e) {
    throw new OpError(ctx.node, ctx.opset, (e as Error).message);
  }
}

/** Integer range of a dtype as the i32/i64 bit pattern it is computed with (uint32 max is -1 as i32). */
export function intLimit(dtype: DType, which: 'min' | 'max'): Expr {
  const bits = { int8: 8, int16: 16, int32: 32, int64: 64, uint8: 8, uint16: 16, uint32: 32, uint64: 64 }[
    dtype as string
  ];
  if (bits === undefined) throw new Error(`intLimit: ${dtype} is not an integer dtype`);
  const unsigned = isUnsigned(dtype);
  const value =
    which === 'min'
      ? unsigned
        ? 0n
        : -(1n << BigInt(bits - 1))
      : unsigned
        ? (1n << BigInt(bits)) - 1n
        : (1n << BigInt(bits - 1)) - 1n;
  const t = scalarOf(dtype);
  return t === 'i64' ? cnst(t, BigInt.asIntN(64, value)) : cnst(t, Number(BigInt.asIntN(32, value)));
}

/** The lowest (`min`) or highest (`max`) value of a dtype: ±inf for floats. */
export function typeExtreme(dtype: DType, which: 'min' | 'max'): Expr {
  if (isFloatType(dtype)) return cnst(scalarOf(dtype), which === 'min' ? -Infinity : Infinity);
  return intLimit(dtype, which);
}

export interface Operand {
  buf: BufRef;
  shape: readonly number[];
}

/**
 * One kernel computing out[i] = compute(operands broadcast to outShape). Operands that already have
 * the output's element count (or a single element) are read with a flat index, so the common
 * same-shape and scalar cases become one simple loop.
 */
export function elementwiseKernel(
  name: string,
  out: BufRef,
  outShape: readonly number[],
  operands: readonly Operand[],
  compute: (values: Expr[]) => Expr,
): Kernel {
  const n = sizeOf(outShape);
  const want: Scalar = scalarOf(out.dtype);
  const checked = (e: Expr): Expr => {
    if (e.t !== want)
      throw new Error(`${name}: elementwise result is ${e.t}, output ${out.dtype} needs ${want}`);
    return e;
  };
  const flat = operands.every((o) => sizeOf(o.shape) === n || sizeOf(o.shape) === 1);
  if (flat) {
    const i = v('i');
    const values = operands.map((o) => load(o.buf, sizeOf(o.shape) === n ? i : i32(0)));
    return { name, body: [parallelLoop('i', n, [store(out, i, checked(compute(values)))])] };
  }
  const outStrides = stridesOf(outShape);
  const body = forEachIndex(
    outShape,
    'd',
    (idx) => [
      store(
        out,
        linearIndex(idx, outStrides),
        checked(compute(operands.map((o) => load(o.buf, broadcastIndex(idx, o.shape))))),
      ),
    ],
    { parallel: true },
  );
  return { name, body };
}

/** Operands for every present input of a node, in order. */
export function operandsOf(ctx: OpContext, bufs: readonly (BufRef | undefined)[]): Operand[] {
  const ops: Operand[] = [];
  bufs.forEach((buf, i) => {
    const t = ctx.inputs[i];
    if (buf && t) ops.push({ buf, shape: t.shape });
  });
  return ops;
}

export interface ElementwiseSpec {
  /** number of inputs; 'variadic' = one or more (Sum, Mean, Min, Max) */
  arity: number | 'variadic';
  /** dtypes input T may have; all inputs share it */
  allowed: readonly DType[];
  /** output dtype for input dtype T (default: T) */
  outDtype?: (dtype: DType) => DType;
  /** attribute validation, run during inference */
  check?: (ctx: OpContext, dtype: DType) => void;
  /** the output element from the (loaded, broadcast) input elements, in the output's compute type */
  compute: (ctx: OpContext, values: Expr[], dtype: DType) => Expr;
}

/** An OpDef for an op whose inputs share dtype T, broadcast together, and map element by element. */
export function elementwiseOp(spec: ElementwiseSpec, sinceVersion = 1): OpDef {
  const inferShape = (ctx: OpContext) => {
    const count = ctx.inputs.length;
    if (spec.arity === 'variadic' ? count < 1 : count !== spec.arity)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `expected ${spec.arity === 'variadic' ? 'at least 1' : spec.arity} input(s), found ${count}`,
      );
    const types = ctx.inputs.map((_, i) => typedInput(ctx, i, spec.allowed));
    const dtype = requireSameDtype(ctx, types);
    spec.check?.(ctx, dtype);
    return {
      dtype,
      shape: broadcastOrThrow(
        ctx,
        types.map((t) => t.shape),
      ),
    };
  };
  return {
    sinceVersion,
    infer(ctx: OpContext): TensorType[] {
      const { dtype, shape } = inferShape(ctx);
      return [{ dtype: spec.outDtype ? spec.outDtype(dtype) : dtype, shape }];
    },
    lower(ctx: OpContext, io: LowerIO): Kernel[] {
      const { dtype, shape } = inferShape(ctx);
      return [
        elementwiseKernel(ctx.node.name, io.outputs[0], shape, operandsOf(ctx, io.inputs), (values) =>
          spec.compute(ctx, values, dtype),
        ),
      ];
    },
    elementwise: (ctx, values) => spec.compute(ctx, values, inferShape(ctx).dtype),
  };
}

/**
 * The OpDef of an op written in the kernel language as a per-element expression: float inputs
 * (float16, float32, float64) broadcast together; its attributes read from the node with their
 * declared types and defaults.
 */
export function languageOp(def: ElementwiseDef, sinceVersion = 1): OpDef {
  const attrsOf = (ctx: OpContext) => {
    try {
      return bindAttrs(def, declaredAttrs(ctx.node, def.attrs));
    } catch (err) {
      // the node is named; the declaration's file is Kiln's own
      const message = err instanceof KernelTraceError ? err.detail : (err as Error).message;
      throw new OpError(ctx.node, ctx.opset, message);
    }
  };
  return elementwiseOp(
    {
      arity: def.inputs.length,
      allowed: FLOATS,
      check: (ctx) => void attrsOf(ctx),
      compute: (ctx, values) => traceElementwise(def, values, attrsOf(ctx)),
    },
    sinceVersion,
  );
}

/** Input i, required, any dtype. */
export function inputOf(ctx: OpContext, i: number): TensorType {
  const t = ctx.inputs[i];
  if (!t) throw new OpError(ctx.node, ctx.opset, `input ${i} is required`);
  return t;
}
