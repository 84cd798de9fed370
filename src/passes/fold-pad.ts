/**
 * A zero Pad before a Conv folds into the conv's own pads. TensorFlow exports (tf2onnx) write SAME padding
 * at stride 2 as a Pad node and a Conv with pads 0; left apart, the Pad copies the whole activation into a
 * larger buffer and the conv then reads the copy (onnxruntime folds it the same way, PadFusion).
 *
 * Only a constant-mode Pad whose fill is absent or a constant 0, with constant pads that are non-negative
 * and zero on the batch and channel axes, and only where every reader is a Conv taking it as its input
 * (auto_pad NOTSET) and no graph output is the padded value.
 */
import { readersOf, type Graph, type Node } from '../ir/graph.js';
import { tensorToNumbers } from '../ir/tensor.js';

export function foldPads(graph: Graph): Graph {
  const opset = graph.opsets[''] ?? 1;
  const readers = readersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();

  for (const pad of graph.nodes) {
    if (pad.op !== 'Pad' || pad.domain !== '' || graphOutputs.has(pad.outputs[0])) continue;
    const pads = zeroPadsOf(pad, graph, opset);
    const rank = pads ? pads.length / 2 : 0;
    if (!pads || rank < 3 || pads.some((p) => p < 0)) continue;
    if (pads[0] || pads[1] || pads[rank] || pads[rank + 1]) continue;
    const convs = readers.get(pad.outputs[0]) ?? [];
    if (!convs.length || !convs.every((c) => foldableConv(c, pad.outputs[0]) && !replaced.has(c))) continue;
    removed.add(pad);
    for (const conv of convs) {
      const spatial = rank - 2;
      const own = Array.isArray(conv.attrs.pads)
        ? (conv.attrs.pads as number[])
        : new Array(2 * spatial).fill(0);
      const merged = own.map((p, i) => p + (i < spatial ? pads[2 + i] : pads[rank + 2 + i - spatial]));
      const inputs = [pad.inputs[0], ...conv.inputs.slice(1)];
      replaced.set(conv, { ...conv, inputs, attrs: { ...conv.attrs, pads: merged } });
    }
  }
  if (!removed.size) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

/** The Pad's pads when it pads with zeros in constant mode, from constants this pass can read; else undefined. */
function zeroPadsOf(pad: Node, graph: Graph, opset: number): number[] | undefined {
  if ((pad.attrs.mode ?? 'constant') !== 'constant') return undefined;
  if (opset < 11) {
    const value = pad.attrs.value ?? 0;
    return value === 0 && Array.isArray(pad.attrs.pads) ? (pad.attrs.pads as number[]) : undefined;
  }
  const [, padsName, valueName, axesName] = pad.inputs;
  if (axesName) return undefined;
  if (valueName) {
    const value = graph.initializers.get(valueName);
    if (!value || tensorToNumbers(value).some((v) => v !== 0)) return undefined;
  }
  const pads = padsName ? graph.initializers.get(padsName) : undefined;
  return pads && tensorToNumbers(pads);
}

const foldableConv = (n: Node, padded: string): boolean =>
  n.op === 'Conv' &&
  n.domain === '' &&
  n.inputs[0] === padded &&
  !n.inputs.slice(1).includes(padded) &&
  (n.attrs.auto_pad ?? 'NOTSET') === 'NOTSET';
