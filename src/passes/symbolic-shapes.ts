/**
 * Shape inference over shape expressions, for the ops that run with dims known only at run time.
 *
 * An op's own `infer` types its outputs at the symbols' upper bounds (every op has one); a rule here
 * says what each output dim is as an expression, and only ops with a rule may meet a symbolic dim: any
 * other op, or a rule's case it does not cover (a reduction over a symbolic axis, a Slice of one), is
 * one compile error naming the op, node and dim, with the way out (`--shape`). Rules accept only what
 * runs row by row over the symbolic dims (see lowerRows), so their results are never wrong.
 */
import type { TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { attrInt, attrInts, findOp, normAxis, OpError, type OpContext } from '../ops/registry.js';
import { Refusal } from './shape-refusal.js';
import { spatialRule } from './symbolic-spatial.js';

type Shape = sym.SymLike[];
type Ranges = Readonly<Record<string, sym.Range>>;

const isStatic = (d: sym.SymLike): d is number => sym.constValue(d) !== undefined;
const staticValue = (d: sym.SymLike): number | undefined => sym.constValue(d);
const show = sym.symText;

/** Output i's shape expressions from the inputs' (`shapes[i]` undefined for an omitted input). */
type Rule = (ctx: OpContext, shapes: (Shape | undefined)[], shapeValue: ShapeValueOf) => Shape[];

/** An input's elements as shape expressions, when it is a shape value (shape-values.ts). */
type ShapeValueOf = (name: string) => sym.SymLike[] | undefined;

/** The symbolic dim among `dims` at the axes `axes`, if any. */
function symbolicAt(shape: Shape, axes: readonly number[]): sym.SymLike | undefined {
  return axes.map((a) => shape[a]).find((d) => !isStatic(d));
}

/** Refuse when an axis the op mixes across holds a symbolic dim. */
function requireStatic(shape: Shape, axes: readonly number[], what: string): void {
  const d = symbolicAt(shape, axes);
  if (d !== undefined) throw new Refusal(d, `${what} runs over dim ${show(d)}`);
}

function broadcast(shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let d: sym.SymLike = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (staticValue(e) === 1) continue;
      if (staticValue(d) === 1 || sym.symEqual(d, e)) d = e;
      else if (isStatic(d) && isStatic(e))
        continue; // the op's own infer reports it
      else {
        const symbolic = isStatic(d) ? e : d;
        const hint = isStatic(d) || isStatic(e) ? '' : STEP_HINT;
        throw new Refusal(symbolic, `dim ${show(d)} broadcasts against dim ${show(e)}${hint}`);
      }
    }
    out.push(d);
  }
  return out;
}

/** Why two symbolic dims that are equal at the sizes a model takes may not be shown equal. */
const STEP_HINT =
  ' (dims equal only at some sizes, as halved and doubled feature maps are at multiples of 32, are shown equal by a step in the bounds: --dim NAME=MIN..MAX:STEP)';

const sameShape: Rule = (_, [x]) => [x!];

const broadcastAll: Rule = (_, shapes) => [broadcast(shapes.filter((s): s is Shape => s !== undefined))];

const matMul: Rule = (_, [a, b]) => {
  if (a!.length < 2 || b!.length < 2) throw new Refusal(symbolicAt(a!, [0]) ?? b![0], 'a 1-D MatMul operand');
  const batch = broadcast([a!.slice(0, -2), b!.slice(0, -2)]);
  return [[...batch, a![a!.length - 2], b![b!.length - 1]]];
};

const gemm: Rule = (ctx, [a, b, c]) => {
  const transA = attrInt(ctx.node, 'transA', 0) === 1;
  const transB = attrInt(ctx.node, 'transB', 0) === 1;
  requireStatic(b!, [0, 1], 'Gemm operand B');
  requireStatic(a!, [transA ? 0 : 1], 'the Gemm contraction');
  // a static bias with rows would have to match M at every size: only rows of 1 broadcast
  if (
    c &&
    isStatic(a![transA ? 1 : 0]) === false &&
    c.length === 2 &&
    isStatic(c[0]) &&
    staticValue(c[0]) !== 1
  )
    throw new Refusal(a![transA ? 1 : 0], `Gemm bias C with ${show(c[0])} fixed rows`);
  return [[a![transA ? 1 : 0], b![transB ? 0 : 1]]];
};

const layerNorm: Rule = (ctx, [x]) => {
  const rank = x!.length;
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), rank, ctx);
  requireStatic(x!, range(axis, rank), 'LayerNormalization');
  const stats = x!.map((d, i) => (i < axis ? d : 1));
  return [x!, stats, stats];
};

/** ReduceX: axes from the attribute (older opsets) or the constant input 1. */
const reduce: Rule = (ctx, [x]) => {
  const rank = x!.length;
  const fromInput = ctx.node.inputs.length > 1 && ctx.node.inputs[1] !== '';
  const given = fromInput ? tensorToNumbers(ctx.consts[1]!) : attrInts(ctx.node, 'axes', []);
  if (given.length === 0 && attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [x!];
  const axes = given.length === 0 ? range(0, rank) : given.map((a) => normAxis(a, rank, ctx));
  requireStatic(x!, axes, ctx.node.op);
  const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
  return [keep ? x!.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.filter((_, i) => !axes.includes(i))];
};

const gather: Rule = (ctx, [data, indices]) => {
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), data!.length, ctx);
  requireStatic(data!, [axis], 'Gather');
  return [[...data!.slice(0, axis), ...indices!, ...data!.slice(axis + 1)]];
};

/** Axes of Squeeze/Unsqueeze: the attribute (before opset 13) or the constant input 1. */
function axesOf(ctx: OpContext): number[] | undefined {
  if (ctx.opset < 13) return ctx.node.attrs.axes === undefined ? undefined : attrInts(ctx.node, 'axes');
  return ctx.consts[1] ? tensorToNumbers(ctx.consts[1]) : undefined;
}

const unsqueeze: Rule = (ctx, [x]) => {
  const axes = axesOf(ctx)!;
  const rank = x!.length + axes.length;
  const inserted = axes.map((a) => normAxis(a, rank, ctx));
  const rest = [...x!];
  return [range(0, rank).map((i) => (inserted.includes(i) ? 1 : rest.shift()!))];
};

const squeeze: Rule = (ctx, [x]) => {
  const given = axesOf(ctx);
  if (!given || given.length === 0) {
    const d = symbolicAt(x!, range(0, x!.length));
    throw new Refusal(d!, 'Squeeze without axes would drop dim ' + show(d!) + ' where it is 1');
  }
  const axes = given.map((a) => normAxis(a, x!.length, ctx));
  requireStatic(x!, axes, 'Squeeze');
  return [x!.filter((_, i) => !axes.includes(i))];
};

/** Reshape to a constant target: 0 copies the input dim, one -1 takes what is left. */
const reshape: Rule = (ctx, [x], shapeValue) => {
  const symbolicTarget = ctx.opset >= 5 ? shapeValue(ctx.node.inputs[1]) : undefined;
  if (ctx.opset >= 5 && !ctx.consts[1])
    throw new Refusal(symbolicAt(x!, range(0, x!.length))!, 'the target shape is computed at run time');
  const target: sym.SymLike[] =
    symbolicTarget ?? (ctx.opset < 5 ? attrInts(ctx.node, 'shape') : tensorToNumbers(ctx.consts[1]!));
  const allowzero = attrInt(ctx.node, 'allowzero', 0) === 1;
  const dims: (sym.SymLike | undefined)[] = target.map((d, i) => {
    const n = sym.constValue(d);
    return n === 0 && !allowzero ? x![i] : n === -1 ? undefined : d;
  });
  const total = product(x!);
  const free = dims.indexOf(undefined);
  const wrong = () =>
    new Refusal(
      symbolicAt(x!, range(0, x!.length)) ?? target.find((d) => !isStatic(d))!,
      `[${x!.map(show)}] cannot be shown to reshape to [${target.map(show)}]`,
    );
  if (free >= 0) {
    const known = product(dims.filter((d, i) => i !== free) as sym.SymLike[]);
    const rest = sym.floorDiv(total, known);
    if (!sym.symEqual(sym.mul(rest, known), total)) throw wrong();
    dims[free] = rest;
  }
  if (!sym.symEqual(product(dims as Shape), total)) throw wrong();
  return [dims as Shape];
};

const flatten: Rule = (ctx, [x]) => {
  // axis ∈ [-rank, rank]; a negative one counts from the end of the input's own rank
  const given = attrInt(ctx.node, 'axis', 1);
  const axis = given < 0 ? normAxis(given, x!.length, ctx) : normAxis(given, x!.length + 1, ctx);
  return [[product(x!.slice(0, axis)), product(x!.slice(axis))]];
};

const transpose: Rule = (ctx, [x]) => {
  const rank = x!.length;
  const perm = attrInts(ctx.node, 'perm', range(0, rank).reverse());
  return [perm.map((p) => x![p])];
};

const concat: Rule = (ctx, shapes) => {
  const present = shapes.filter((s): s is Shape => s !== undefined);
  const axis = normAxis(attrInt(ctx.node, 'axis', ctx.opset < 4 ? 1 : undefined), present[0].length, ctx);
  present.forEach((s) => requireStatic(s, [axis], 'Concat'));
  const out = [...present[0]];
  out[axis] = present.reduce((n, s) => n + staticValue(s[axis])!, 0);
  for (const s of present)
    s.forEach((d, i) => {
      if (i !== axis && !sym.symEqual(d, out[i]))
        throw new Refusal(
          isStatic(d) ? out[i] : d,
          `Concat inputs differ in dim ${i} (${show(d)}, ${show(out[i])})${isStatic(d) || isStatic(out[i]) ? '' : STEP_HINT}`,
        );
    });
  return [out];
};

/**
 * Slice: a static axis is sized by the op's own inference; on a symbolic one (or with bounds from a shape
 * value, `position_ids[:, :seq]`) step 1 and a slice provably inside the dim, [start, end) with
 * 0 ≤ start ≤ end ≤ dim over the symbols' bounds, whose size is end - start.
 */
const slice =
  (outType: TensorType, ranges: Ranges): Rule =>
  (ctx, [x], shapeValue) => {
    if (ctx.opset < 10) {
      const axes = ctx.node.attrs.axes === undefined ? undefined : attrInts(ctx.node, 'axes');
      const sliced = (axes ?? range(0, attrInts(ctx.node, 'starts').length)).map((a) =>
        normAxis(a, x!.length, ctx),
      );
      requireStatic(x!, sliced, 'Slice');
      return [x!.map((d, i) => (sliced.includes(i) ? outType.shape[i] : d))];
    }
    const listOf = (i: number): sym.SymLike[] | undefined => {
      const name = ctx.node.inputs[i];
      if (!name) return undefined;
      return shapeValue(name) ?? (ctx.consts[i] ? tensorToNumbers(ctx.consts[i]!) : undefined);
    };
    const [starts, ends, axesGiven, steps] = [listOf(1)!, listOf(2)!, listOf(3), listOf(4)];
    const out = [...x!];
    (axesGiven ?? range(0, starts.length)).forEach((axis, j) => {
      const a = normAxis(staticValue(axis)!, x!.length, ctx);
      const [d, start, step] = [x![a], starts[j], steps?.[j] ?? 1];
      let end = ends[j];
      if ([d, start, end, step].every(isStatic)) {
        out[a] = outType.shape[a];
        return;
      }
      const symbolic = [d, start, end].find((e) => !isStatic(e))!;
      if (staticValue(step) !== 1)
        throw new Refusal(symbolic, `Slice with step ${show(step)} over dim ${show(d)}`);
      // an end past every value the dim takes means "to the end"
      if (isStatic(end) && staticValue(end)! >= sym.bounds(d, ranges).max) end = d;
      const inside =
        sym.bounds(start, ranges).min >= 0 &&
        sym.bounds(sym.sub(end, start), ranges).min >= 0 &&
        sym.bounds(sym.sub(d, end), ranges).min >= 0;
      if (!inside)
        throw new Refusal(
          symbolic,
          `Slice [${show(start)}:${show(end)}] cannot be shown to lie inside dim ${show(d)}`,
        );
      out[a] = canonical(sym.sub(end, start));
    });
    return [out];
  };

const RULES: Record<string, Rule> = {
  Identity: sameShape,
  Cast: sameShape,
  Where: broadcastAll,
  Pow: broadcastAll,
  // opset ≥ 11: scalar min and max inputs (before, attributes make it an elementwise op)
  Clip: broadcastAll,
  Dropout: (ctx, shapes) => [shapes[0]!, shapes[0]!],
  MatMul: matMul,
  Gemm: gemm,
  // a symbolic axis is normalized by a kernel with run-time extents (symbolic-kernels.ts)
  Softmax: sameShape,
  LogSoftmax: sameShape,
  LayerNormalization: layerNorm,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceL2: reduce,
  ReduceSumSquare: reduce,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Concat: concat,
};

function ruleFor(ctx: OpContext, outTypes: TensorType[], ranges: Ranges): Rule | undefined {
  if (ctx.node.domain === '' && ctx.node.op === 'Slice') return slice(outTypes[0], ranges);
  const spatial = ctx.node.domain === '' ? spatialRule(ctx.node.op, ranges) : undefined;
  if (spatial) return spatial;
  if (ctx.node.domain === '' && RULES[ctx.node.op]) return RULES[ctx.node.op];
  const def = findOp(ctx.node.op, ctx.node.domain, ctx.opset);
  // ops whose kernels take the run-time dims themselves (kernel-language custom ops)
  if (def?.runTimeDims) return (c, shapes) => def.runTimeDims!.shapes(c, shapes, ranges);
  // ops that map broadcast inputs to one output element by element (Add, Relu, Erf, fused chains...)
  return def?.elementwise ? broadcastAll : undefined;
}

/**
 * `outTypes` (inferred at the bounds) with each output's shape expressions, for a node some input of
 * which has a symbolic dim. `shape` becomes each dim's upper bound; `symbolic` is kept where some dim is
 * not static.
 */
export function withSymbolicShapes(
  ctx: OpContext,
  outTypes: TensorType[],
  ranges: Ranges,
  shapeValue: ShapeValueOf = () => undefined,
): TensorType[] {
  const shapes = ctx.inputs.map((t) => t && (t.symbolic ?? t.shape));
  const firstSymbolic = (): sym.SymLike => shapes.flatMap((s) => s ?? []).find((d) => !isStatic(d))!;
  const rule = ruleFor(ctx, outTypes, ranges);
  let exprs: Shape[];
  try {
    if (!rule) throw new Refusal(firstSymbolic(), 'Kiln runs this op only at fixed shapes');
    exprs = rule(ctx, shapes, shapeValue);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    const input = ctx.inputs.findIndex((t) => t?.symbolic?.some((d) => sym.symEqual(d, err.dim)));
    const source = input >= 0 ? input : ctx.inputs.findIndex((t) => t?.symbolic);
    throw new OpError(
      ctx.node,
      ctx.opset,
      `dim ${show(err.dim)} of input ${source} ("${ctx.node.inputs[source]}") is known only at run time: ${err.why}; fix the dims it comes from with --shape`,
    );
  }
  return outTypes.map((t, i) => {
    const e = exprs[i];
    if (!e || e.every(isStatic)) return e ? { dtype: t.dtype, shape: e.map((d) => staticValue(d)!) } : t;
    return { dtype: t.dtype, shape: e.map((d) => sym.bounds(d, ranges).max), symbolic: e.map(canonical) };
  });
}

/** Static dims as plain numbers, so `symbolic` compares and prints simply. */
const canonical = (d: sym.SymLike): sym.SymLike => staticValue(d) ?? d;

function product(dims: readonly sym.SymLike[]): sym.SymLike {
  return dims.reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
