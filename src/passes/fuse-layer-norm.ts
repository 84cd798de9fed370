/**
 * LayerNorm as exporters decompose it below opset 17 (PyTorch's nn.LayerNorm, BERT's hand-written one):
 *
 *   m = ReduceMean(x, last axis)  d = x − m  v = ReduceMean(d², last axis)
 *   y = d / Sqrt(v + ε) · γ (+ β)
 *
 * becomes one kiln.LayerNormalization node (ONNX's LayerNormalization over the last axis, registered in
 * Kiln's domain for graphs whose opset predates it): one kernel reading each row three times instead of
 * five kernels (each a pass over the tensor) with d and d² stored and read back. The fused kernel divides
 * by the standard deviation as one multiply by its reciprocal (as onnxruntime's LayerNormalization does):
 * within an ulp or two of the decomposed form.
 *
 * Taken when every intermediate is float32, read only by the next step and no graph output, the row's
 * length is known at compile time (the rows' count may be known only at run time), the squaring is Pow(d, 2) or Mul(d, d), ε is a one-element constant, and γ and β
 * have the row's shape [H]. compile.ts runs it for both targets (the WGSL generator lowers the same row
 * kernel, as it does ONNX's LayerNormalization), so a bundle for wasm and webgpu carries the same model.wasm
 * and weights as one for wasm alone.
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { tensorToNumbers } from '../ir/tensor.js';
import { FUSED_DOMAIN } from '../ops/fused.js';
import { attrInt, attrInts } from '../ops/registry.js';

export function fuseLayerNorms(graph: Graph): Graph {
  const readers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const constant = (name: string) => {
    const t = graph.initializers.get(name);
    return t && t.dtype !== 'string' ? tensorToNumbers(t) : undefined;
  };
  /** the one node reading `value` (an intermediate: no graph output), if `op` */
  const onlyReader = (value: string, op: string): Node | undefined => {
    const r = readers.get(value);
    return r?.length === 1 && r[0].op === op && r[0].domain === '' && !graphOutputs.has(value)
      ? r[0]
      : undefined;
  };
  const float32 = (name: string) => graph.types.get(name)?.dtype === 'float32';
  /** a ReduceMean over the last axis of `input` (rank `rank`), keeping it */
  const meanOverLastAxis = (node: Node, rank: number): boolean => {
    if (node.op !== 'ReduceMean' || attrInt(node, 'keepdims', 1) !== 1) return false;
    const axes = node.inputs[1] ? constant(node.inputs[1]) : attrInts(node, 'axes', []);
    return axes?.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
  };
  /** the other input of a two-input node, when one of them is `value` */
  const otherInput = (node: Node, value: string): string | undefined =>
    node.inputs.length === 2 && node.inputs.includes(value)
      ? node.inputs[node.inputs[0] === value ? 1 : 0]
      : undefined;

  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const mean of graph.nodes) {
    if (mean.op !== 'ReduceMean' || mean.domain !== '' || removed.has(mean)) continue;
    const x = mean.inputs[0];
    const type = graph.types.get(x);
    // the row's length must be known at compile time (the rows' count may be a run-time dim)
    const rowDim = type?.symbolic?.[type.shape.length - 1];
    if (!type || type.dtype !== 'float32' || (rowDim !== undefined && typeof rowDim !== 'number')) continue;
    if (!meanOverLastAxis(mean, type.shape.length)) continue;
    const H = type.shape[type.shape.length - 1];
    const sub = onlyReader(mean.outputs[0], 'Sub');
    if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const d = sub.outputs[0];
    const dReaders = [...new Set(readers.get(d))]; // Mul(d, d) reads d twice
    if (dReaders.length !== 2 || graphOutputs.has(d)) continue;
    const square = dReaders.find(
      (n) =>
        (n.op === 'Pow' && n.inputs[0] === d && constant(n.inputs[1])?.join() === '2') ||
        (n.op === 'Mul' && n.inputs[0] === d && n.inputs[1] === d),
    );
    const div = dReaders.find((n) => n.op === 'Div' && n.inputs[0] === d);
    if (!square || !div || square.domain !== '' || div.domain !== '') continue;
    const variance = onlyReader(square.outputs[0], 'ReduceMean');
    if (!variance || !meanOverLastAxis(variance, type.shape.length)) continue;
    const addEps = onlyReader(variance.outputs[0], 'Add');
    const eps = addEps && constant(otherInput(addEps, variance.outputs[0]) ?? '');
    if (!addEps || eps?.length !== 1) continue;
    const sqrt = onlyReader(addEps.outputs[0], 'Sqrt');
    if (!sqrt || div.inputs[1] !== sqrt.outputs[0] || onlyReader(sqrt.outputs[0], 'Div') !== div) continue;
    const scaleMul = onlyReader(div.outputs[0], 'Mul');
    const gamma = scaleMul && otherInput(scaleMul, div.outputs[0]);
    const rowShaped = (name: string | undefined) =>
      name !== undefined && float32(name) && graph.types.get(name)?.shape.join() === String(H);
    if (!scaleMul || !rowShaped(gamma)) continue;
    const biasAdd = onlyReader(scaleMul.outputs[0], 'Add');
    const beta = biasAdd && otherInput(biasAdd, scaleMul.outputs[0]);
    const last = biasAdd && rowShaped(beta) ? biasAdd : scaleMul;
    const chain = [mean, sub, square, variance, addEps, sqrt, div, scaleMul, last];
    const out = last.outputs[0];
    const steps = chain.flatMap((n) => n.outputs);
    if (!steps.every(float32) || graph.types.get(out)?.shape.join() !== type.shape.join()) continue;
    for (const n of chain) removed.add(n);
    replaced.set(last, {
      op: 'LayerNormalization',
      domain: FUSED_DOMAIN,
      name: `${mean.name}_LayerNorm`,
      inputs: last === biasAdd ? [x, gamma!, beta!] : [x, gamma!],
      outputs: [out],
      attrs: { axis: -1, epsilon: eps[0] },
    });
  }
  if (removed.size === 0) return graph;
  return {
    ...graph,
    nodes: graph.nodes.flatMap((n) => {
      const r = replaced.get(n);
      return r ? [r] : removed.has(n) ? [] : [n];
    }),
  };
}
