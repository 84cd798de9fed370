/** The indices a node reads from a model input's values (manifest IndexCheck), checked before a run. */
import type { IndexCheck, TensorSignature } from './manifest.js';
import { fedElements } from './shape-dims.js';

/**
 * Throws one message naming the input, the element, the bounds and the node when an index read from a
 * feed (`bytes[i]` for manifest input i, already checked) lies outside -size..size-1 of its axis.
 */
export function checkFedIndices(
  where: string,
  checks: readonly IndexCheck[] | undefined,
  inputs: readonly TensorSignature[],
  bytes: readonly Uint8Array[],
): void {
  for (const check of checks ?? []) {
    // verify.ts: every check names an int input of the model
    const at = inputs.findIndex((sig) => sig.name === check.input);
    const indices = fedElements(inputs[at].dtype, bytes[at]);
    const k = check.sizes.length;
    indices.forEach((index, p) => {
      const size = check.sizes[p % k];
      if (index < -size || index >= size)
        throw new Error(
          `${where}: input "${check.input}" element ${p} is ${index}, outside ${-size}..${size - 1}: ${check.op} node "${check.node}" reads it as an index into axis ${check.axes[p % k]} (size ${size})`,
        );
    });
  }
}
