/**
 * Specialization: fix every shape, infer every type, and fold everything known at compile time.
 *
 * One walk in topological order. For each node: look up its OpDef, infer output types from the input
 * types (and constant input values, which shape-carrying inputs need), then fold the node when its
 * value is computable now — either from types alone (Shape, Size) or because every input is a
 * constant. Control flow is expanded in place (control-flow.ts): `If` on a constant condition becomes
 * the chosen branch, Loop and Scan are unrolled.
 */
import type { Graph, Node, TensorType } from '../ir/graph.js';
import { sizeOf, type HostTensor } from '../ir/tensor.js';
import { dtypeBytes } from '../ir/dtype.js';
import { findOp, OpError, type OpContext } from '../ops/registry.js';
import { evaluateNode } from './evaluate-node.js';
import { convertTensor } from './convert.js';
import { CONTROL_FLOW_OPS, expandControlFlow, runtimeInputsOf, type ControlFlowEnv } from './control-flow.js';

/** Fold a node whose inputs are all constant if its outputs stay this small (or no bigger than its inputs). */
const FOLD_LIMIT_BYTES = 1 << 20;

export interface SpecializeOptions {
  shapes?: Record<string, number[]>;
  consts?: Record<string, HostTensor>;
  onWarning?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export function specialize(graph: Graph, opts: SpecializeOptions = {}): Graph {
  const types = new Map<string, TensorType>();
  const consts = new Map<string, HostTensor>(graph.initializers);
  for (const [name, t] of consts) types.set(name, { dtype: t.dtype, shape: [...t.dims] });

  for (const name of Object.keys(opts.shapes ?? {}))
    if (!graph.inputs.some((i) => i.name === name))
      throw new Error(
        `--shape names "${name}", which is not an input of the model (inputs: ${inputNames(graph)})`,
      );
  for (const name of Object.keys(opts.consts ?? {}))
    if (!graph.inputs.some((i) => i.name === name))
      throw new Error(
        `--const names "${name}", which is not an input of the model (inputs: ${inputNames(graph)})`,
      );

  const inputs = [];
  for (const input of graph.inputs) {
    const given = opts.consts?.[input.name];
    // A 1-D constant input with a free length takes its length from the values given.
    const constLength =
      given && !opts.shapes?.[input.name] && input.shape.length === 1 && typeof input.shape[0] === 'string'
        ? [sizeOf(given.dims)]
        : undefined;
    const shape = constLength ?? resolveInputShape(input.name, input.shape, opts);
    if (given) {
      if (sizeOf(given.dims) !== sizeOf(shape))
        throw new Error(
          `--const ${input.name}: ${sizeOf(given.dims)} values given, the input [${shape.join(',')}] needs ${sizeOf(shape)}`,
        );
      const t = convertTensor({ ...given, dims: shape }, input.dtype);
      consts.set(input.name, t);
      types.set(input.name, { dtype: t.dtype, shape: [...t.dims] });
      continue;
    }
    types.set(input.name, { dtype: input.dtype, shape });
    inputs.push({ name: input.name, dtype: input.dtype, shape });
  }

  const remaining: Node[] = [];
  const queue = [...graph.nodes];
  let done = 0;
  while (queue.length > 0) {
    const node = queue.shift()!;
    opts.onProgress?.(++done, done + queue.length);
    const opset = graph.opsets[node.domain] ?? graph.opsets[''] ?? 0;
    for (const name of node.inputs)
      if (name !== '' && !types.has(name))
        throw new Error(
          `invalid ONNX model: ${node.op} node "${node.name}" reads "${name}", which no earlier node, input or initializer defines`,
        );
    if (CONTROL_FLOW_OPS.has(node.op) && node.domain === '') {
      const expanded = expandControlFlow(node, opset, { consts, types, graph, kept: remaining });
      for (const [name, t] of expanded.initializers) {
        consts.set(name, t);
        types.set(name, { dtype: t.dtype, shape: [...t.dims] });
      }
      queue.unshift(...expanded.nodes);
      continue;
    }
    const def = findOp(node.op, node.domain, opset);
    if (!def) throw unsupported(node, opset);
    const ctx: OpContext = {
      node,
      opset,
      inputs: node.inputs.map((n) => (n === '' ? undefined : types.get(n))),
      consts: node.inputs.map((n) => (n === '' ? undefined : consts.get(n))),
    };
    let outTypes: TensorType[];
    try {
      outTypes = def.infer(ctx);
    } catch (e) {
      throw nameModelInput(e, { consts, types, graph, kept: remaining });
    }
    if (outTypes.length < node.outputs.filter((o) => o !== '').length)
      throw new OpError(
        node,
        opset,
        `produces ${outTypes.length} outputs but the node names ${node.outputs.length}`,
      );
    outTypes.forEach((t) => checkType(t, ctx));
    node.outputs.forEach((name, i) => name !== '' && types.set(name, outTypes[i]));

    const folded = tryFold(def, ctx, outTypes);
    if (folded) {
      node.outputs.forEach((name, i) => name !== '' && consts.set(name, folded[i]));
      continue;
    }
    remaining.push(node);
  }

  for (const out of graph.outputs)
    if (!types.has(out.name))
      throw new Error(`invalid ONNX model: graph output "${out.name}" is never computed`);

  return {
    name: graph.name,
    opsets: graph.opsets,
    inputs,
    outputs: graph.outputs.map((o) => ({
      name: o.name,
      dtype: types.get(o.name)!.dtype,
      shape: types.get(o.name)!.shape,
    })),
    nodes: remaining,
    initializers: consts,
    types,
  };
}

function tryFold(def: ReturnType<typeof findOp> & object, ctx: OpContext, outTypes: TensorType[]) {
  if (def.fold) {
    const r = def.fold(ctx);
    if (r) return r;
  }
  const present = ctx.node.inputs.map((n, i) => (n === '' ? undefined : (ctx.consts[i] ?? null)));
  if (def.alias && ctx.consts[0]) {
    // output 0 is input 0's bytes under a new shape; further outputs (Dropout's mask) come from lower()
    const view = { ...ctx.consts[0], dims: [...outTypes[0].shape] };
    const rest = outTypes.length > 1 && def.lower ? evaluateNode(def, ctx, outTypes).slice(1) : [];
    return [view, ...rest];
  }
  if (present.some((c) => c === null) || !def.lower) return undefined;
  if (outTypes.some((t) => t.dtype === 'string')) return undefined;
  const outBytes = outTypes.reduce((s, t) => s + sizeOf(t.shape) * dtypeBytes(t.dtype), 0);
  const inBytes = ctx.consts.reduce(
    (s, t) => s + (t && t.dtype !== 'string' ? sizeOf(t.dims) * dtypeBytes(t.dtype) : 0),
    0,
  );
  if (outBytes > FOLD_LIMIT_BYTES && outBytes > inBytes) return undefined; // computed once at load by init()
  return evaluateNode(def, ctx, outTypes);
}

/**
 * An op needed a value at compile time that is computed at run time: say which model input it comes
 * from, since that is what the user can pass with --const.
 */
function nameModelInput(e: unknown, env: ControlFlowEnv): unknown {
  if (!(e instanceof OpError)) return e;
  const m = /\(input \d+, "([^"]*)"\) must be known at compile time/.exec(e.message);
  if (!m) return e;
  const inputs = env.graph.inputs.map((i) => i.name);
  if (inputs.includes(m[1])) return e;
  const source = runtimeInputsOf(m[1], env)[0];
  if (source === undefined) return e;
  e.message = e.message.replace(
    'must be known at compile time',
    `is computed at run time; model input (input ${inputs.indexOf(source)}, "${source}") must be known at compile time`,
  );
  return e;
}

/** wasm32 linear memory holds at most 4 GiB; no single value may come near it. */
export const MAX_VALUE_BYTES = 2 ** 31;

function checkType(t: TensorType, ctx: OpContext): void {
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new OpError(ctx.node, ctx.opset, `inferred an invalid output shape [${t.shape.join(',')}]`);
  if (t.dtype !== 'string' && sizeOf(t.shape) * dtypeBytes(t.dtype) > MAX_VALUE_BYTES)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `output of shape [${t.shape.join(',')}] (${t.dtype}) is larger than the ${MAX_VALUE_BYTES / 2 ** 30} GiB a value may take`,
    );
}

function resolveInputShape(name: string, declared: (number | string)[], opts: SpecializeOptions): number[] {
  const given = opts.shapes?.[name];
  if (given) {
    if (given.length !== declared.length)
      throw new Error(
        `--shape ${name}: the model declares rank ${declared.length} [${declared.join(',')}], got ${given.length} dims`,
      );
    declared.forEach((d, i) => {
      if (typeof d === 'number' && d !== given[i])
        throw new Error(`--shape ${name}: dimension ${i} is fixed to ${d} by the model, got ${given[i]}`);
    });
  }
  const shape = given
    ? [...given]
    : declared.map((d) => {
        if (typeof d === 'number') return d;
        opts.onWarning?.(
          `input "${name}" has symbolic dimension "${d}"; using 1 (set it with --shape ${name}=...)`,
        );
        return 1;
      });
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new Error(`input "${name}" has an invalid shape [${shape.join(',')}]`);
  return shape;
}

function unsupported(node: Node, opset: number): Error {
  const domain = node.domain === '' ? 'ai.onnx' : node.domain;
  return new OpError(node, opset, `unsupported op ${node.op} (domain ${domain}, opset ${opset})`);
}

function inputNames(graph: Graph): string {
  return graph.inputs.map((i) => i.name).join(', ') || 'none';
}
