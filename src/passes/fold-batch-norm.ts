/**
 * BatchNormalization after a Conv or ConvTranspose with constant weights folds into that conv:
 * y = (conv(x, W) + B − mean) · s + bias with s = scale / √(var + ε) per output channel is
 * conv(x, W·s) + ((B − mean) · s + bias). Exporters (Paddle, TF, PyTorch without fusion) leave the
 * BatchNormalization as its own node; folded, it costs nothing, and the Relu after it can fuse into
 * the conv's GEMM (fuse-activation.ts). onnxruntime folds the same way, in the same order of rounding
 * (products in f64, one rounding to float32).
 *
 * Only BatchNormalization with one output (inference) on float32, with every parameter constant, and
 * only where the conv's output feeds nothing else.
 *
 * A Conv's weights may also be a ConstantOfShape of value c too big to fold at compile time (the ONNX
 * "light" models generate all weights so), computed by init() at load: W·s is then Expand(c·s), the
 * scaled per-channel values broadcast over the same shape, in the same init() memory.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { HostTensor } from '../ir/tensor.js';

const CONVS = new Set(['Conv', 'ConvTranspose']);

export function foldBatchNorms(graph: Graph): Graph {
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const producers = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producers.set(o, n);

  const initializers = new Map(graph.initializers);
  const types = new Map(graph.types);
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  /** the Expand computing a conv's folded weights, which goes right before it */
  const expands = new Map<Node, Node>();
  const f32 = (name: string | undefined): Float32Array | undefined => {
    const t = name ? initializers.get(name) : undefined;
    return t?.dtype === 'float32' ? (t.data as Float32Array) : undefined;
  };

  for (const bn of graph.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.length !== 1) continue;
    if (bn.attrs.spatial === 0) continue;
    const [x, scaleName, biasName, meanName, varName] = bn.inputs;
    const conv = producers.get(x);
    if (!conv || !CONVS.has(conv.op) || conv.domain !== '' || conv.outputs.length !== 1) continue;
    if (consumers.get(x) !== 1 || graphOutputs.has(x) || replaced.has(conv)) continue;
    if (types.get(x)?.dtype !== 'float32') continue;
    const [scale, bias, mean, variance] = [scaleName, biasName, meanName, varName].map(f32);
    const w = initializers.get(conv.inputs[1]);
    const filled = w ? undefined : filledWeights(conv);
    const b = conv.inputs[2] ? f32(conv.inputs[2]) : new Float32Array(scale?.length ?? 0);
    if (!scale || !bias || !mean || !variance || !b || (w?.dtype !== 'float32' && !filled)) continue;
    const channels = scale.length;
    if ([bias, mean, variance, b].some((p) => p.length !== channels)) continue;

    const epsilon = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
    const s = Array.from(scale, (g, c) => g / Math.sqrt(variance[c] + epsilon));
    const wName = `${conv.name}/weights_bn_folded`;
    if (w) {
      const channelOf = outputChannelOf(conv, w, channels);
      if (!channelOf) continue;
      const weights = w.data as Float32Array;
      const folded = new Float32Array(weights.length);
      const perChannel = weights.length / w.dims[0];
      for (let i = 0; i < weights.length; i++)
        folded[i] = weights[i] * s[channelOf(Math.floor(i / perChannel), i)];
      add(wName, { dtype: 'float32', dims: [...w.dims], data: folded });
    } else if (filled && filled.dims[0] === channels) {
      const sName = `${conv.name}/weights_bn_scaled`;
      const ones = filled.dims.slice(1).map(() => 1);
      add(sName, {
        dtype: 'float32',
        dims: [channels, ...ones],
        data: Float32Array.from(s, (v) => v * filled.value),
      });
      types.set(wName, { dtype: 'float32', shape: filled.dims });
      removed.add(filled.node);
      expands.set(conv, {
        op: 'Expand',
        domain: '',
        name: wName,
        inputs: [sName, filled.node.inputs[0]],
        outputs: [wName],
        attrs: {},
      });
    } else continue;
    const foldedBias = Float32Array.from(b, (v, c) => (v - mean[c]) * s[c] + bias[c]);

    const bName = `${conv.name}/bias_bn_folded`;
    add(bName, { dtype: 'float32', dims: [channels], data: foldedBias });
    removed.add(bn);
    replaced.set(conv, { ...conv, inputs: [conv.inputs[0], wName, bName], outputs: [bn.outputs[0]] });
  }
  if (!removed.size) return graph;
  return {
    ...graph,
    initializers,
    types,
    nodes: graph.nodes
      .filter((n) => !removed.has(n))
      .flatMap((n) => [...(expands.has(n) ? [expands.get(n)!] : []), replaced.get(n) ?? n]),
  };

  /**
   * A Conv's float32 weights [Cout, …] filled by a ConstantOfShape (of a constant shape) that nothing else
   * reads, where Expand exists (opset 8)
   */
  function filledWeights(conv: Node): { node: Node; dims: number[]; value: number } | undefined {
    const fill = producers.get(conv.inputs[1]);
    const type = types.get(conv.inputs[1]);
    if (conv.op !== 'Conv' || fill?.op !== 'ConstantOfShape' || fill.domain !== '') return undefined;
    if (
      (graph.opsets[''] ?? 0) < 8 ||
      consumers.get(conv.inputs[1]) !== 1 ||
      graphOutputs.has(conv.inputs[1])
    )
      return undefined;
    if (!initializers.has(fill.inputs[0]) || type?.dtype !== 'float32' || type.shape.length < 3)
      return undefined;
    const value = fill.attrs.value as HostTensor | undefined;
    return { node: fill, dims: [...type.shape], value: value ? Number(value.data[0]) : 0 };
  }

  function add(name: string, t: HostTensor) {
    initializers.set(name, t);
    types.set(name, { dtype: t.dtype, shape: t.dims });
  }
}

/**
 * For element i of the weights (whose first-axis index is `row`), the output channel it feeds, or
 * undefined when the weights' shape does not match `channels`.
 * Conv: W is [Cout, Cin/group, k…], so the row is the channel.
 * ConvTranspose: W is [Cin, Cout/group, k…]; input channel `row` is in group row ÷ (Cin/group).
 */
function outputChannelOf(
  conv: Node,
  w: HostTensor,
  channels: number,
): ((row: number, i: number) => number) | undefined {
  if (w.dims.length < 3) return undefined;
  const group = typeof conv.attrs.group === 'number' ? conv.attrs.group : 1;
  if (conv.op === 'Conv') return w.dims[0] === channels ? (row) => row : undefined;
  const perGroupOut = w.dims[1];
  if (perGroupOut * group !== channels || w.dims[0] % group) return undefined;
  const inPerGroup = w.dims[0] / group;
  const kernel = w.dims.slice(2).reduce((a, d) => a * d, 1);
  return (row, i) => Math.floor(row / inPerGroup) * perGroupOut + (Math.floor(i / kernel) % perGroupOut);
}
