/**
 * int8 kernels (wasm): a MatMul, Gemm or Conv whose weight is an int8 constant restored to float32 — by
 * compress-weights.ts (`--weights int8`: DequantizeLinear, or Cast + Mul before opset 13), or by a
 * quantized model's own DequantizeLinear with zero points 0 (QDQ format) — reads the int8 weight
 * itself instead, through kiln.Int8MatMul / kiln.Int8Conv (src/ops/nn/int8-weights.ts), and the restore
 * nodes go: the float32 weight is never built, in memory or in time. Weights need one scale per output
 * channel (or one for the tensor). A Gather of a weight with one scale (an embedding table) gathers the
 * int8 rows and restores only those (Cast + Mul). Depthwise convs read their int8 weight too, restoring
 * each as they load it. Other readers keep the restored float32 weight.
 *
 * onnxruntime's `quantize_dynamic` MatMul and Conv — Mul(Cast(MatMulInteger | ConvInteger(
 * DynamicQuantizeLinear(x), W, x_zp[, w_zp])), Mul(x_scale, w_scale)) with W an int8 or uint8 constant
 * — become kiln.Int8MatMul / Int8Conv of x itself: the int8 gemm quantizes x per row (where
 * onnxruntime quantizes the whole tensor to uint8), and the quantize, integer, cast and scaling nodes go.
 * A QLinearMatMul or QLinearConv of such a weight becomes DequantizeLinear → Int8MatMul / Int8Conv →
 * QuantizeLinear. uint8 weights and weight zero points are rewritten exactly (`quantizedWeight`,
 * `zeroPointTerm`). Where the float32 operand is provably never negative (`neverNegative`: a Relu's output,
 * through pooling and reshapes), the int8 node says so (`nonnegative`) and its gemm quantizes it to 0..255
 * instead of ±127.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';
import type { QuantParams } from './compress-weights.js';
import { sizeOf, tensorToNumbers } from '../ir/tensor.js';
import { FUSED_DOMAIN, fusedBody, isFusedChain } from '../ops/fused.js';
import { activationOf, fusedActivation } from '../ops/fused-activation.js';

/** An int8 initializer and the per-channel scales a restore applies along `axis` (undefined: one scale). */
interface Int8Weight {
  name: string;
  q: HostTensor;
  scales: number[];
  axis: number | undefined;
  /** the restore's nodes */
  restore: Node[];
  /** per channel along `axis`, the zero points q is stored against where they are not all 0 (asInt8) */
  zeros?: number[];
}

export function useInt8Kernels(graph: Graph): { graph: Graph; quant: Map<string, QuantParams> } {
  const producers = new Map(graph.nodes.flatMap((n) => n.outputs.map((o): [string, Node] => [o, n])));
  const constant = (name: string | undefined) => (name ? graph.initializers.get(name) : undefined);

  /** The int8 weight behind a restored value, if a restore produced it. */
  const int8WeightOf = (value: string): Int8Weight | undefined => {
    const node = producers.get(value);
    if (!node || node.domain !== '') return undefined;
    if (node.op === 'DequantizeLinear') {
      const [q, scale, zero] = [0, 1, 2].map((i) => constant(node.inputs[i]));
      if (q?.dtype !== 'int8' || scale?.dtype !== 'float32') return undefined;
      if (node.inputs[2] && (!zero || tensorToNumbers(zero).some((z) => z !== 0))) return undefined;
      const perTensor = scale.dims.length === 0 || scale.data.length === 1;
      const axis = perTensor ? undefined : normalized(Number(node.attrs.axis ?? 1), q.dims.length);
      return { name: node.inputs[0], q, scales: tensorToNumbers(scale), axis, restore: [node] };
    }
    if (node.op === 'Mul') {
      const cast = producers.get(node.inputs[0]);
      const scale = constant(node.inputs[1]);
      if (cast?.op !== 'Cast' || cast.domain !== '' || scale?.dtype !== 'float32') return undefined;
      const q = constant(cast.inputs[0]);
      if (q?.dtype !== 'int8' || scale.dims.length > q.dims.length) return undefined;
      // a scale broadcast as [1, .., C, .., 1] against the weight, or a scalar
      const offset = q.dims.length - scale.dims.length;
      const channels = scale.dims.map((d, i) => [d, i + offset]).filter(([d]) => d !== 1);
      if (channels.length > 1) return undefined;
      const axis = channels.length === 1 ? channels[0][1] : undefined;
      if (axis !== undefined && q.dims[axis] !== scale.data.length) return undefined;
      return { name: cast.inputs[0], q, scales: tensorToNumbers(scale), axis, restore: [node, cast] };
    }
    return undefined;
  };

  const initializers = new Map(graph.initializers);
  const types = new Map(graph.types);
  const quant = new Map<string, QuantParams>();
  const taken = new Set([...initializers.keys(), ...graph.types.keys()]);
  const freshName = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const added = new Map<string, string>(); // key → initializer made for it, shared by readers
  const addConstant = (key: string, base: string, make: () => HostTensor): string => {
    let name = added.get(key);
    if (!name) {
      const t = make();
      name = freshName(base);
      initializers.set(name, t);
      types.set(name, { dtype: t.dtype, shape: [...t.dims] });
      added.set(key, name);
    }
    return name;
  };
  /** the channel scales of `w` along `axis` as a float32 [channels] constant */
  const scalesOf = (w: Int8Weight, channels: number): string =>
    addConstant(`${w.name} scales`, `${w.name}/int8_scales`, () => ({
      dtype: 'float32',
      dims: [channels],
      data: Float32Array.from({ length: channels }, (_, c) => w.scales[w.axis === undefined ? 0 : c]),
    }));
  /** `w` [K, N] as [N, K] int8 (each output column's weights contiguous), listed with its scales */
  const transposed = (w: Int8Weight): string => {
    const [K, N] = w.q.dims;
    const name = addConstant(`${w.name} nk`, `${w.name}/int8_nk`, () => {
      const src = w.q.data as Int8Array;
      const data = new Int8Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) data[n * K + k] = src[k * N + n];
      return { dtype: 'int8', dims: [N, K], data };
    });
    const scales = Array.from({ length: N }, (_, c) => w.scales[w.axis === undefined ? 0 : c]);
    // the manifest's one zero point cannot describe per-channel ones: such a weight is listed as int8 only
    if (!w.zeros)
      quant.set(name, { scale: Math.max(...scales), zeroPoint: 0, dtype: 'int8', axis: 0, scales });
    return name;
  };

  const known = new Map<string, boolean>();
  /** Whether `value` is never negative: a Relu's output (or a Conv's with a Relu fused), pooled or reshaped. */
  const neverNegative = (value: string): boolean => {
    let result = known.get(value);
    if (result !== undefined) return result;
    known.set(value, false); // a cycle proves nothing
    const node = producers.get(value);
    const act = !node
      ? undefined
      : fusedBody(node) && !isFusedChain(node)
        ? fusedActivation(node)
        : activationOf(node, graph);
    result =
      node !== undefined &&
      node.domain === '' &&
      ((act !== undefined && (act.op === 'relu' || (act.op === 'clip' && act.min >= 0))) ||
        (KEEPS_SIGN.has(node.op) && neverNegative(node.inputs[0])) ||
        (node.op === 'Concat' && node.inputs.every(neverNegative)));
    known.set(value, result);
    return result;
  };

  /**
   * A quantized model's weight `b` (int8 or uint8; zero points `zero`: none, one, or one per channel
   * along `axis`) as the int8 weight the kernels read, exactly: uint8 values and zero points shifted by
   * −128; zero points subtracted at compile time where every q − zp fits int8; otherwise they stay
   * (`zeros`) for a correction term (`zeroPointTerm`). undefined for other dtypes or parameter shapes.
   */
  const quantizedWeight = (
    b: string,
    q: HostTensor | undefined,
    zero: HostTensor | undefined,
    scales: number[],
    axis: number,
  ): Int8Weight | undefined => {
    if ((q?.dtype !== 'int8' && q?.dtype !== 'uint8') || axis >= q.dims.length) return undefined;
    const channels = q.dims[axis];
    if (
      (scales.length !== 1 && scales.length !== channels) ||
      (zero && zero.data.length !== 1 && zero.data.length !== channels)
    )
      return undefined;
    const shift = q.dtype === 'uint8' ? 128 : 0;
    const given = zero ? tensorToNumbers(zero) : [0];
    const zeros = Array.from({ length: channels }, (_, c) => given[given.length === 1 ? 0 : c] - shift);
    const w = { scales, axis: scales.length === 1 ? undefined : axis, restore: [] };
    if (q.dtype === 'int8' && zeros.every((z) => z === 0)) return { name: b, q, ...w };
    const data = q.data as Int8Array | Uint8Array;
    const inner = sizeOf(q.dims.slice(axis + 1));
    const zeroOf = (i: number) => zeros[Math.floor(i / inner) % channels];
    const folds = data.every((v, i) => v - shift - zeroOf(i) >= -128 && v - shift - zeroOf(i) <= 127);
    const name = addConstant(`${b} int8`, `${b}/int8`, () => ({
      dtype: 'int8',
      dims: [...q.dims],
      data: Int8Array.from(data, (v, i) => v - shift - (folds ? zeroOf(i) : 0)),
    }));
    const stored = initializers.get(name)!;
    return { name, q: stored, ...w, ...(!folds && { zeros }) };
  };

  /**
   * Σ_k x_k (q_k − zp) · s = Σ_k x_k q_k · s − zp · s · Σ_k x_k: the product `product` of the int8 kernel
   * over q, then Add(product, Mul(Σ x, −zp · s)) — Σ x by MatMul with ones [K, 1], or for a conv by
   * Conv with a ones kernel (one output channel, or one per channel where each group has one). Nodes
   * (the product's output renamed) or undefined where there is no such sum (a grouped conv with several
   * channels per group).
   */
  const zeroPointTerm = (
    w: Int8Weight,
    x: string,
    product: Node,
    conv: Node | undefined,
  ): Node[] | undefined => {
    if (!w.zeros) return [product];
    const zeros = w.zeros;
    const [channels, input, out] = [zeros.length, types.get(x)!, types.get(product.outputs[0])!];
    const group = conv ? Number(conv.attrs.group ?? 1) : 1;
    if (conv && group !== 1 && group !== channels) return undefined;
    const value = (what: string, shape: number[]) => {
      const name = freshName(`${product.outputs[0]}/${what}`);
      types.set(name, { dtype: 'float32', shape });
      return name;
    };
    const step = (op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({
      op,
      domain: '',
      name: freshName(`${product.name}/zero_point_${op.toLowerCase()}`),
      inputs,
      outputs: [output],
      attrs,
    });
    const spatial = w.q.dims.slice(2);
    const ones = addConstant(`${w.name} ones ${group}`, `${w.name}/ones`, () => {
      const dims = conv ? [group === 1 ? 1 : channels, w.q.dims[1], ...spatial] : [w.q.dims[0], 1];
      return { dtype: 'float32', dims, data: new Float32Array(sizeOf(dims)).fill(1) };
    });
    const term = addConstant(`${w.name} zero point term`, `${w.name}/zero_point_term`, () => ({
      dtype: 'float32',
      dims: conv ? [channels, ...spatial.map(() => 1)] : [channels],
      data: Float32Array.from(zeros, (z, c) => -z * w.scales[w.axis === undefined ? 0 : c]),
    }));
    const sumShape = conv
      ? [out.shape[0], group === 1 ? 1 : channels, ...out.shape.slice(2)]
      : [...input.shape.slice(0, -1), 1];
    const [sum, scaled, raw] = [
      value('sum', sumShape),
      value('zero_point_term', [...out.shape]),
      value('int8', [...out.shape]),
    ];
    const convAttrs = conv
      ? Object.fromEntries(Object.entries(conv.attrs).filter(([k]) => k !== 'nonnegative'))
      : {};
    return [
      { ...product, outputs: [raw] },
      step(conv ? 'Conv' : 'MatMul', [x, ones], sum, convAttrs),
      step('Mul', [sum, term], scaled),
      step('Add', [raw, scaled], product.outputs[0]),
    ];
  };

  const restores = new Set<Node>();
  /** Gather(restored W, indices) → restore(Gather(W, indices)): only the gathered rows become float32. */
  const gatherRows = (node: Node): Node[] | undefined => {
    const w = int8WeightOf(node.inputs[0]);
    const out = graph.types.get(node.outputs[0]);
    if (!w || w.axis !== undefined || !out) return undefined;
    w.restore.forEach((n) => restores.add(n));
    const [rows, asFloat] = [
      freshName(`${node.outputs[0]}/int8`),
      freshName(`${node.outputs[0]}/int8_as_float32`),
    ];
    // the gathered rows' shape, with its dims known only at run time where the output has them
    const shaped = { shape: [...out.shape], ...(out.symbolic && { symbolic: out.symbolic }) };
    types.set(rows, { dtype: 'int8', ...shaped });
    types.set(asFloat, { dtype: 'float32', ...shaped });
    const scale = addConstant(`${w.name} scale`, `${w.name}/scale`, () => ({
      dtype: 'float32',
      dims: [],
      data: Float32Array.of(w.scales[0]),
    }));
    const step = (op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({
      op,
      domain: '',
      name: freshName(`${node.name}/${op.toLowerCase()}`),
      inputs,
      outputs: [output],
      attrs,
    });
    return [
      { ...node, inputs: [w.name, ...node.inputs.slice(1)], outputs: [rows] },
      step('Cast', [rows], asFloat, { to: ONNX_FLOAT }),
      step('Mul', [asFloat, scale], node.outputs[0]),
    ];
  };

  /**
   * The dynamic-quantized MatMul or Conv whose last node (the Mul by x_scale · w_scale) is `mul`, as
   * Int8MatMul / Int8Conv. w_scale: one, or one per output channel (broadcast along the last axis of a
   * MatMul's output, a Conv's channel axis).
   */
  const dynamicQuantized = (mul: Node): Node[] | undefined => {
    const from = (value: string | undefined, ...ops: string[]) => {
      const node = value ? producers.get(value) : undefined;
      return node && ops.includes(node.op) && node.domain === '' ? node : undefined;
    };
    for (const [product, multiplier] of [mul.inputs, [...mul.inputs].reverse()]) {
      const cast = from(product, 'Cast');
      const integer = from(cast?.inputs[0], 'MatMulInteger', 'ConvInteger');
      const quantize = from(integer?.inputs[0], 'DynamicQuantizeLinear');
      const scales = from(multiplier, 'Mul');
      if (!cast || !integer || !quantize || !scales || cast.attrs.to !== ONNX_FLOAT) continue;
      const [x, [, xScale, xZero]] = [quantize.inputs[0], quantize.outputs];
      const conv = integer.op === 'ConvInteger';
      const q = constant(integer.inputs[1]);
      const zero = constant(integer.inputs[3]);
      const input = graph.types.get(x);
      if (input?.dtype !== 'float32' || integer.inputs[2] !== xZero || !q) continue;
      if (q.dims.length !== (conv ? input.shape.length : 2) || !scales.inputs.includes(xScale)) continue;
      if (integer.inputs[3] && !zero) continue;
      const scale = constant(scales.inputs.find((i) => i !== xScale));
      const channels = conv ? q.dims[0] : q.dims[1];
      // the axis of the output the scales run along, counted from its end
      const fromEnd = conv ? q.dims.length - 2 : 0;
      const perChannel =
        scale?.data.length === channels &&
        scale.dims.length > fromEnd &&
        scale.dims[scale.dims.length - 1 - fromEnd] === channels;
      if (scale?.dtype !== 'float32' || (scale.data.length !== 1 && !perChannel)) continue;
      const w = quantizedWeight(integer.inputs[1], q, zero, tensorToNumbers(scale), conv ? 0 : 1);
      if (!w) continue;
      const attrs: Node['attrs'] = conv ? { ...integer.attrs } : {};
      if (neverNegative(x)) attrs.nonnegative = 1;
      const inputs = conv ? [x, w.name, scalesOf(w, channels)] : [x, transposed(w), scalesOf(w, channels)];
      const int8Node: Node = {
        ...mul,
        op: conv ? 'Int8Conv' : 'Int8MatMul',
        domain: FUSED_DOMAIN,
        inputs,
        attrs,
      };
      const nodes = zeroPointTerm(w, x, int8Node, conv ? integer : undefined);
      if (!nodes) continue;
      [quantize, integer, cast, scales].forEach((n) => restores.add(n));
      return nodes;
    }
    return undefined;
  };

  /**
   * QLinearMatMul(a, a_scale, a_zp, W, w_scale, 0, y_scale, y_zp) and QLinearConv(.., B) with W an int8
   * constant → QuantizeLinear(Int8MatMul | Int8Conv(DequantizeLinear(a)), y_scale, y_zp): the product on
   * the int8 gemm, a re-quantized per row, only the elementwise dequantize and quantize around it. A
   * QLinearConv's int32 bias becomes float32, B · a_scale · w_scale, which needs a constant a_scale.
   */
  const qlinear = (node: Node): Node[] | undefined => {
    const [a, aScale, aZero, b, bScale, bZero, yScale, yZero, bias] = node.inputs;
    const conv = node.op === 'QLinearConv';
    const [q, scale, zero] = [constant(b), constant(bScale), constant(bZero)];
    const [input, out] = [graph.types.get(a), graph.types.get(node.outputs[0])];
    if (!input || !out || !q || scale?.dtype !== 'float32') return;
    if (q.dims.length !== (conv ? input.shape.length : 2) || (bZero && !zero)) return;
    const channels = conv ? q.dims[0] : q.dims[1];
    const w = quantizedWeight(b, q, zero, tensorToNumbers(scale), conv ? 0 : 1);
    if (!w) return;
    const [intBias, inScale] = [constant(bias), constant(aScale)];
    if (bias && (intBias?.dtype !== 'int32' || inScale?.data.length !== 1)) return;
    if (w.zeros && conv && ![1, channels].includes(Number(node.attrs.group ?? 1))) return;
    const value = (what: string, shape: number[]) => {
      const name = freshName(`${node.outputs[0]}/${what}`);
      types.set(name, { dtype: 'float32', shape: [...shape] });
      return name;
    };
    const [af, yf] = [value('a_float32', input.shape), value('float32', out.shape)];
    const step = (op: string, domain: string, inputs: string[], output: string, attrs = {}): Node => ({
      op,
      domain,
      name: freshName(`${node.name}/${op}`),
      inputs,
      outputs: [output],
      attrs,
    });
    const floatBias = intBias
      ? [
          addConstant(`${bias} float32`, `${bias}/float32`, () => ({
            dtype: 'float32',
            dims: [channels],
            data: Float32Array.from(
              tensorToNumbers(intBias),
              (v, c) => v * tensorToNumbers(inScale!)[0] * w.scales[w.axis === undefined ? 0 : c],
            ),
          })),
        ]
      : [];
    const product = conv
      ? step('Int8Conv', FUSED_DOMAIN, [af, w.name, scalesOf(w, channels), ...floatBias], yf, node.attrs)
      : step('Int8MatMul', FUSED_DOMAIN, [af, transposed(w), scalesOf(w, channels)], yf);
    restores.add(node);
    return [
      step('DequantizeLinear', '', [a, aScale, aZero].filter(Boolean), af),
      ...zeroPointTerm(w, af, product, conv ? node : undefined)!,
      step('QuantizeLinear', '', [yf, yScale, yZero].filter(Boolean), node.outputs[0]),
    ];
  };

  const rewrite = (node: Node): Node[] | Node | undefined => {
    if (node.op === 'Gather' && node.domain === '') return gatherRows(node);
    if ((node.op === 'QLinearMatMul' || node.op === 'QLinearConv') && node.domain === '')
      return qlinear(node);
    if (node.op === 'Mul' && node.domain === '') return dynamicQuantized(node);
    const w = node.domain === '' && node.inputs[1] ? int8WeightOf(node.inputs[1]) : undefined;
    const input = graph.types.get(node.inputs[0]);
    if (!w || input?.dtype !== 'float32' || w.q.dims.length < 2) return undefined;
    w.restore.forEach((n) => restores.add(n));
    const attrs = Object.fromEntries(
      Object.entries(node.attrs).filter(([k]) => !['transA', 'transB', 'broadcast'].includes(k)),
    );
    if (neverNegative(node.inputs[0])) attrs.nonnegative = 1;
    const int8 = (op: string, inputs: string[]): Node => ({
      ...node,
      op,
      domain: FUSED_DOMAIN,
      inputs,
      attrs,
    });
    const rank2 = w.q.dims.length === 2;
    const bias = node.inputs[2] ? [node.inputs[2]] : [];
    if (node.op === 'MatMul' && rank2 && input.shape.length >= 1 && w.axis !== 0)
      return int8('Int8MatMul', [node.inputs[0], transposed(w), scalesOf(w, w.q.dims[1]), ...bias]);
    if (node.op === 'Gemm' && rank2 && input.shape.length === 2 && node.attrs.transA !== 1) {
      if (node.attrs.transB === 1 && w.axis !== 1)
        return int8('Int8MatMul', [node.inputs[0], w.name, scalesOf(w, w.q.dims[0]), ...bias]);
      if (node.attrs.transB !== 1 && w.axis !== 0)
        return int8('Int8MatMul', [node.inputs[0], transposed(w), scalesOf(w, w.q.dims[1]), ...bias]);
    }
    if (node.op === 'Conv' && w.axis !== 1 && w.q.dims.length === input.shape.length) {
      return int8('Int8Conv', [node.inputs[0], w.name, scalesOf(w, w.q.dims[0]), ...bias]);
    }
    return undefined;
  };

  const nodes = graph.nodes.flatMap((n) => rewrite(n) ?? n);
  return { graph: withoutDead({ ...graph, nodes, initializers, types }, restores), quant };
}

/** Ops whose output is never negative where their first input is not. */
const KEEPS_SIGN = new Set([
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Identity',
]);

const normalized = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const ONNX_FLOAT = 1;

/**
 * Drops the restores nothing reads any more, and the constants only they read: the int8 kernels read the
 * int8 weight (or its transposed copy) instead. A restore another reader still needs stays.
 */
function withoutDead(graph: Graph, restores: Set<Node>): Graph {
  const readers = (nodes: Node[]) =>
    new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
  let nodes = graph.nodes;
  for (;;) {
    const read = readers(nodes);
    const live = nodes.filter((n) => !restores.has(n) || n.outputs.some((o) => read.has(o)));
    if (live.length === nodes.length) break;
    nodes = live;
  }
  const read = readers(nodes);
  const restoreInputs = new Set([...restores].flatMap((n) => n.inputs));
  const initializers = new Map(
    [...graph.initializers].filter(([name]) => read.has(name) || !restoreInputs.has(name)),
  );
  return { ...graph, nodes, initializers };
}
