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
    // verify.ts: every check names an int32 or int64 input of the model
    const at = inputs.findIndex((sig) => sig.name === check.input);
    const p = outOfRange(inputs[at].dtype === 'int64', bytes[at], check.sizes);
    if (p < 0) continue;
    const j = p % check.sizes.length;
    const size = check.sizes[j];
    const value = fedElements(inputs[at].dtype, bytes[at])[p];
    throw new Error(
      `${where}: input "${check.input}" element ${p} is ${value}, outside ${-size}..${size - 1}: ${check.op} node "${check.node}" reads it as an index into axis ${check.axes[j]} (size ${size})`,
    );
  }
}

/**
 * The first element out of -size..size-1 (size = sizes[p % sizes.length]), or -1. Reads 32-bit words, an
 * int64 as its low and high halves: per element no BigInt, which made a check of 1,024 ids cost 0.2 ms.
 */
function outOfRange(int64: boolean, bytes: Uint8Array, sizes: readonly number[]): number {
  // the checked feeds are fresh copies, so 4-byte aligned; a copy otherwise
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  const k = sizes.length;
  const count = int64 ? words.length >> 1 : words.length;
  for (let p = 0; p < count; p++) {
    const size = sizes[p % k];
    const low = int64 ? words[2 * p] : words[p];
    // an int64 within ±2^31 has a high word of 0 (low ≥ 0) or -1 (low < 0)
    if (int64 && words[2 * p + 1] !== low >> 31) return p;
    if (low < -size || low >= size) return p;
  }
  return -1;
}
