/**
 * Measurements `npm run bench` takes in a child process, to keep binaryen and the compiler out of the
 * timing process (their wasm would keep V8 tiering up in the background there):
 *
 *   tsx probe.ts peak WARM_MS TIME_MS          → {"simd128","relaxed"} GFLOP/s of one core
 *   tsx probe.ts flops MODEL.onnx SHAPES_JSON  → {"flops","by_op"}: 2 × multiply-adds of Conv,
 *                                                ConvTranspose, MatMul and Gemm at the given shapes
 */
import { readFileSync } from 'node:fs';
import { measureSimdPeak } from '../../src/cli/simd-peak.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { specialize } from '../../src/passes/specialize.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import '../../src/ops/index.js';

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Multiply-adds of one node; 0 for the ops whose arithmetic is not counted (elementwise, pools, …). */
function multiplyAdds(graph: Graph, node: Node): number {
  const shape = (name: string) => graph.types.get(name)?.shape ?? graph.initializers.get(name)?.dims;
  const out = shape(node.outputs[0]);
  if (!out) return 0;
  switch (node.op) {
    case 'Conv': {
      const w = shape(node.inputs[1])!; // [Cout, Cin / group, kh, kw]
      return size(out) * size(w.slice(1));
    }
    case 'ConvTranspose': {
      const x = shape(node.inputs[0])!;
      const w = shape(node.inputs[1])!; // [Cin, Cout / group, kh, kw]
      return size(x) * size(w.slice(1));
    }
    case 'MatMul': {
      const a = shape(node.inputs[0])!;
      return size(out) * a[a.length - 1];
    }
    case 'Gemm': {
      const a = shape(node.inputs[0])!;
      return size(out) * (node.attrs.transA ? a[0] : a[1]);
    }
    default:
      return 0;
  }
}

function countFlops(onnxPath: string, shapes: Record<string, number[]>) {
  const graph = specialize(parseOnnxModel(readFileSync(onnxPath)), { shapes });
  const byOp: Record<string, number> = {};
  for (const node of graph.nodes) {
    const macs = multiplyAdds(graph, node);
    if (macs) byOp[node.op] = (byOp[node.op] ?? 0) + 2 * macs;
  }
  return { flops: Object.values(byOp).reduce((a, b) => a + b, 0), by_op: byOp };
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'peak') console.log(JSON.stringify(measureSimdPeak({ warmMs: Number(a), timeMs: Number(b) })));
else if (mode === 'flops')
  console.log(JSON.stringify(countFlops(a, JSON.parse(b) as Record<string, number[]>)));
else throw new Error(`probe: unknown mode ${mode}`);
