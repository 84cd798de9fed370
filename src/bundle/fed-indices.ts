/** The indices a node reads from a model input's values (manifest IndexCheck), checked before a run. */
import type { IndexBound, IndexCheck, TensorSignature } from './manifest.js';
import { fedElements } from './shape-dims.js';

/**
 * Throws one message naming the input, the element, the bounds and the node when an index read from a
 * feed (`bytes[i]` for manifest input i, already checked) lies outside its bounds.
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
    const p = outOfRange(inputs[at].dtype === 'int64', bytes[at], check.bounds);
    if (p < 0) continue;
    const { min, max, what } = check.bounds[p % check.bounds.length];
    throw new Error(
      `${where}: input "${check.input}" element ${p} is ${fedElements(inputs[at].dtype, bytes[at])[p]}, outside ${min}..${max}: ${check.op} node "${check.node}" reads it as ${what}`,
    );
  }
}

/**
 * The first element out of bounds[p % bounds.length], or -1. Reads 32-bit words, an int64 as its low and
 * high halves: per element no BigInt, which made a check of 1,024 ids cost 0.2 ms.
 */
function outOfRange(int64: boolean, bytes: Uint8Array, bounds: readonly IndexBound[]): number {
  // the checked feeds are fresh copies, so 4-byte aligned; a copy otherwise
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  const k = bounds.length;
  const count = int64 ? words.length >> 1 : words.length;
  for (let p = 0; p < count; p++) {
    const { min, max } = bounds[p % k];
    const low = int64 ? words[2 * p] : words[p];
    // an int64 within ±2^31 has a high word of 0 (low ≥ 0) or -1 (low < 0); bounds lie within ±2^31
    if (int64 && words[2 * p + 1] !== low >> 31) return p;
    if (low < min || low > max) return p;
  }
  return -1;
}
