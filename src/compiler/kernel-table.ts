/** The manifest's kernel table: what each kernel of the run schedule computes, for `kiln bench --profile`. */
import type { Node, TensorType } from '../ir/graph.js';
import type { Kernel, ShapeSymbol } from '../kernels/ir.js';
import { kernelFlops } from '../kernels/flops.js';
import { dominantGemm } from '../kernels/gemm-shape.js';
import type { KernelInfo } from '../bundle/manifest.js';
import { fusedBody, isFusedChain } from '../ops/fused.js';
import { pooledBy } from '../ops/nn/conv-pool.js';

/** Where a run kernel came from: its node (none for the copies into graph outputs) and the values it writes. */
export interface KernelSource {
  node?: Node;
  outputs: TensorType[];
}

/**
 * `functions[i]` is the wasm function of `kernels[i]`, `sources[i]` its origin; shapes and flops are
 * at the shape symbols' upper bounds.
 */
export function kernelTable(
  kernels: Kernel[],
  sources: KernelSource[],
  functions: string[],
  symbols: readonly ShapeSymbol[] = [],
): KernelInfo[] {
  return kernels.map((kernel, i) => {
    const { node, outputs } = sources[i];
    const gemm = dominantGemm(kernel, symbols);
    return {
      function: functions[i],
      name: kernel.name,
      node: node?.name ?? '',
      op: node ? opLabel(node) : 'Copy',
      outputs: outputs.map((t) => ({ dtype: t.dtype, shape: [...t.shape] })),
      flops: kernelFlops(kernel, symbols),
      ...(gemm && { gemm }),
    };
  });
}

/**
 * "Conv", "Conv+Relu" for a fused activation, "MatMul+Add" for a fused bias, "Mul+Add" for a fused
 * elementwise chain, "Conv+Relu+MaxPool" for a pool fused after them.
 */
function opLabel(node: Node): string {
  const fused = [fusedBody(node), pooledBy(node)].flatMap((g) => g?.nodes.map(opLabel) ?? []);
  return (isFusedChain(node) ? fused : [node.op, ...fused]).join('+');
}
