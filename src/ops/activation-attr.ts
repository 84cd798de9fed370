/** The Relu/Clip that `fuseActivations` (src/passes) folded into a producer node, read back by lowerings. */
import type { Node } from '../ir/graph.js';
import type { Activation } from '../kernels/ir.js';

export function fusedActivation(node: Node): Activation | undefined {
  if (node.attrs.kiln_activation === 'relu') return { op: 'relu' };
  if (node.attrs.kiln_activation === 'clip') {
    const [lo, hi] = node.attrs.kiln_clip as number[];
    return { op: 'clip', min: lo, max: hi };
  }
  return undefined;
}
