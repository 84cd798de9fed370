/**
 * Validation of `run` feeds against the model's inputs. Everything is checked before any byte is
 * written to the model's memory, so a bad call leaves the model usable; and every input is copied
 * here, when `run` is called, so a caller changing its buffers afterwards cannot change the run.
 */
import type { DimsBlock, IndexCheck, ShapeDim, TensorSignature } from '../bundle/manifest.js';
import { ELEMENT_ARRAY, elementCount, type NumericDType } from '../bundle/elements.js';
import { bindFedSymbols, bindSymbols, formatShape, isSymbolic } from '../bundle/shape-dims.js';
import { checkFedIndices } from '../bundle/fed-indices.js';
import { typedFromValues } from './element-values.js';
import type { ElementArray, Feed } from './types.js';

/** The feeds checked: a copy of each input's bytes in the order of `inputs`, and the shape symbols' values. */
export interface CheckedFeeds {
  bytes: Uint8Array[];
  symbols: Record<string, number>;
}

/**
 * Checks the feeds and returns a copy of each input's bytes, in the order of `inputs`, and the shape
 * symbols' values: from the inputs' dims, and from an input's value for the dims block's fed symbols.
 * An input read as indices (`indexChecks`) must hold indices within their axes.
 * `spare`: the copies of an earlier run that nothing uses any more; an input is copied into the one at
 * its index when their lengths match, rather than into fresh memory, whose pages the OS maps only as
 * the copy first writes them (a 110 KB image: 27 page faults in the run).
 */
export function feedBytes(
  modelName: string,
  inputs: readonly TensorSignature[],
  feeds: Record<string, Feed>,
  dims?: DimsBlock,
  indexChecks?: readonly IndexCheck[],
  spare?: readonly Uint8Array[],
): CheckedFeeds {
  const where = `model "${modelName}"`;
  if (typeof feeds !== 'object' || feeds === null)
    throw new Error(`${where}: run() takes an object mapping input names to tensors`);
  const expected = new Set(inputs.map((s) => s.name));
  for (const name of Object.keys(feeds))
    if (!expected.has(name))
      throw new Error(
        `${where}: unknown input "${name}"; the model's inputs are ${inputs.map(describe).join(', ')}`,
      );
  const given = inputs.map((sig) => {
    // own entries only: a feed inherited from a prototype is not one the caller gave
    const feed = Object.hasOwn(feeds, sig.name) ? feeds[sig.name] : undefined;
    if (feed === undefined)
      throw new Error(`${where}: input "${sig.name}" is missing (expected ${describe(sig)})`);
    return feed;
  });
  const bytes = inputs.map((sig, i) =>
    checkedBytes(`${where}: input "${sig.name}"`, sig, given[i], spare?.[i]),
  );
  checkFedIndices(where, indexChecks, inputs, bytes);
  return {
    bytes,
    symbols: {
      ...bindSymbols(
        where,
        inputs,
        given.map((f) => f.dims),
      ),
      ...bindFedSymbols(where, dims, inputs, bytes),
    },
  };
}

function checkedBytes(where: string, sig: TensorSignature, feed: Feed, spare?: Uint8Array): Uint8Array {
  const dtype = sig.dtype as NumericDType;
  if (typeof feed !== 'object' || feed === null || typeof feed.data !== 'object' || feed.data === null)
    throw new Error(`${where} must be a tensor { dtype, dims, data }`);
  if (feed.dtype !== dtype)
    throw new Error(`${where} has dtype ${String(feed.dtype)} but the model expects ${dtype}`);
  if (!Array.isArray(feed.dims) || !sameDims(feed.dims, sig.shape))
    throw new Error(
      `${where} has dims ${formatDims(feed.dims)} but the model expects ${formatShape(sig.shape)}`,
    );
  const count = elementCount(feed.dims);
  if (feed.data.length !== count)
    throw new Error(
      `${where} has ${feed.data.length} data elements but dims ${formatDims(feed.dims)} need ${count}`,
    );
  const Ctor = ELEMENT_ARRAY[dtype];
  if (feed.data instanceof Ctor) return copyOf(bytesOf(feed.data), spare);
  if (!Array.isArray(feed.data))
    throw new Error(
      `${where} data is ${feed.data.constructor?.name ? `a ${feed.data.constructor.name}` : 'an object'} but ${dtype} needs a ${Ctor.name} or an array of ${dtype === 'bool' ? 'booleans' : 'numbers'}`,
    );
  if (dtype === 'float16')
    throw new Error(`${where}: float16 data must be a Uint16Array of raw half-precision bits`);
  return bytesOf(typedFromValues(where, dtype, feed.data));
}

/** `bytes` copied into `spare` when it has their length, else into a fresh buffer */
function copyOf(bytes: Uint8Array, spare: Uint8Array | undefined): Uint8Array {
  if (spare?.byteLength !== bytes.byteLength) return bytes.slice();
  spare.set(bytes);
  return spare;
}

function bytesOf(a: ElementArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Same rank, static dims equal; a dim known only at run time takes any size (its bounds are checked later). */
function sameDims(a: readonly number[], b: readonly ShapeDim[]): boolean {
  return (
    a.length === b.length &&
    a.every((d, i) => {
      const expected = b[i];
      return isSymbolic(expected) ? Number.isSafeInteger(d) && d >= 0 : d === expected;
    })
  );
}

function formatDims(dims: unknown): string {
  if (!Array.isArray(dims)) return typeof dims === 'object' && dims !== null ? 'an object' : String(dims);
  // a dim that is not a number shows as what it is: "1" (a string) is not 1
  return `[${dims.map((d) => (typeof d === 'number' ? d : typeof d === 'string' ? JSON.stringify(d) : typeof d)).join(',')}]`;
}

export function describe(sig: { name: string; dtype: string; shape: readonly ShapeDim[] }): string {
  return `${sig.name} (${sig.dtype}${formatShape(sig.shape)})`;
}
