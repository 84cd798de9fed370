/** Reading manifest shapes whose dims may be known only at run time (SymbolicDim). */
import type { DimsBlock, ShapeDim, SymbolicDim, TensorSignature } from './manifest.js';
import type { Polynomial } from '../ir/symbolic.js';
import type { FedAxes, FedFrames, FedRange, FedSlice } from '../ir/graph.js';

export const isSymbolic = (d: ShapeDim): d is SymbolicDim => typeof d === 'object';

/** Each dim's size, or its upper bound: the shape memory is planned for. */
export function upperBounds(shape: readonly ShapeDim[]): number[] {
  return shape.map((d) => (isSymbolic(d) ? d.max : d));
}

/** `[batch(1..4),3]` */
export function formatShape(shape: readonly ShapeDim[]): string {
  return `[${shape.map((d) => (isSymbolic(d) ? `${d.name}(${formatBounds(d)})` : d)).join(',')}]`;
}

/** The input dim a dims-block symbol sizes: `height` with step 32 for `height_div32`, else the symbol itself. */
export function dimCounted(
  inputs: readonly TensorSignature[],
  symbol: string,
): { name: string; step: number } {
  for (const sig of inputs)
    for (const d of sig.shape)
      if (isSymbolic(d) && d.step !== undefined && d.value?.terms[0].symbols[0] === symbol)
        return { name: d.name, step: d.step };
  return { name: symbol, step: 1 };
}

/**
 * A dims-block symbol's bounds as the user gave them: `height_div32` 1..32 is `height` 32..1024 step 32.
 */
export function userBounds(
  inputs: readonly TensorSignature[],
  symbol: { name: string; min: number; max: number },
): { name: string; min: number; max: number; step?: number } {
  const { name, step } = dimCounted(inputs, symbol.name);
  return { name, min: symbol.min * step, max: symbol.max * step, ...(step > 1 && { step }) };
}

/** `1..4`, or `32..1024:32` for a dim bounded with a step. */
export const formatBounds = (d: { min: number; max: number; step?: number }) =>
  `${d.min}..${d.max}${d.step ? `:${d.step}` : ''}`;

/** A dim's size given the shape symbols' values. */
export function dimValue(d: ShapeDim, values: Readonly<Record<string, number>>): number {
  if (!isSymbolic(d)) return d;
  if (!d.value) return values[d.name];
  const scope = { ...values };
  for (const q of d.quotients ?? []) scope[q.name] = Math.floor(polynomialValue(q.of, scope) / q.by);
  return polynomialValue(d.value, scope);
}

/** c + Σ coef·Π symbols at the symbols' values. */
export function polynomialValue(p: Polynomial, values: Readonly<Record<string, number>>): number {
  return p.terms.reduce((sum, t) => sum + t.symbols.reduce((prod, s) => prod * values[s], t.coef), p.c);
}

/**
 * The shape symbols' values read from the inputs' dims (`dims[i]` for manifest input i), each checked
 * against its bounds and against every other input that shares it. Throws one message naming the input,
 * the axis and the bounds.
 */
export function bindSymbols(
  where: string,
  inputs: readonly TensorSignature[],
  dims: readonly (readonly number[])[],
): Record<string, number> {
  const values: Record<string, number> = {};
  const seen: Record<string, string> = {};
  inputs.forEach((sig, i) =>
    sig.shape.forEach((d, axis) => {
      if (!isSymbolic(d)) return;
      const n = dims[i][axis];
      const here = `input "${sig.name}" axis ${axis}`;
      if (n < d.min || n > d.max)
        throw new Error(`${where}: ${here} is ${n}, outside the bounds of "${d.name}" (${formatBounds(d)})`);
      if (d.step !== undefined && n % d.step !== 0)
        throw new Error(
          `${where}: ${here} is ${n}, not a multiple of ${d.step} as "${d.name}" must be (${formatBounds(d)})`,
        );
      // the symbol that counts the steps
      if (d.step !== undefined) values[d.value!.terms[0].symbols[0]] = n / d.step;
      if (values[d.name] !== undefined && values[d.name] !== n)
        throw new Error(
          `${where}: ${here} is ${n} but ${seen[d.name]} is ${values[d.name]}; both are "${d.name}"`,
        );
      values[d.name] = n;
      seen[d.name] = here;
    }),
  );
  return values;
}

/**
 * The values of the symbols fed as an input's value (DimsBlock `fed`: TopK's K, a Reshape target's dims),
 * read from the checked input bytes (`bytes[i]` for manifest input i, int64 or int32) and checked against
 * their bounds. Throws one message naming the input, the element and the bounds.
 */
export function bindFedSymbols(
  where: string,
  block: DimsBlock | undefined,
  inputs: readonly TensorSignature[],
  bytes: readonly Uint8Array[],
): Record<string, number> {
  const values: Record<string, number> = {};
  for (const s of block?.symbols ?? []) {
    if (!s.fed) continue;
    const at = inputs.findIndex((sig) => sig.name === s.fed!.input);
    if (at < 0)
      throw new Error(`${where}: shape symbol "${s.name}" is fed by "${s.fed.input}", no input of the model`);
    const elements = fedElements(inputs[at].dtype, bytes[at]);
    const input = `${where}: input "${s.fed.input}"`;
    if (s.fed.sum !== undefined) checkParts(input, elements, s.fed.sum);
    const read = (name: string) => {
      const i = inputs.findIndex((sig) => sig.name === name);
      return fedElements(inputs[i].dtype, bytes[i]);
    };
    const n = s.fed.reshape
      ? reshapeTarget(input, elements, s.fed.reshape)[s.fed.index]
      : s.fed.axes
        ? dimsWithAxes(input, elements, s.fed.axes)[s.fed.index]
        : s.fed.slice
          ? slicePlan(where, read, s.fed.slice)[s.fed.index][s.fed.slice.part]
          : s.fed.scaled !== undefined
            ? scaledSize(input, elements, s.fed.index, s.fed.scaled)
            : s.fed.truncated
              ? Math.trunc(elements[s.fed.index])
              : s.fed.broadcast
                ? expandedDims(input, elements, s.fed.broadcast)[s.fed.index]
                : s.fed.times !== undefined
                  ? tiledSize(input, elements, s.fed.index, s.fed.times)
                  : s.fed.range
                    ? rangeCount(where, read, s.fed.range)
                    : s.fed.padded
                      ? paddedAxis(input, elements, s.fed.index, s.fed.padded)
                      : s.fed.frames
                        ? frameCount(where, read, s.fed.input, s.fed.frames)
                        : elements[s.fed.index];
    if (n < s.min || n > s.max)
      throw new Error(
        `${where}: input "${s.fed.input}" element ${s.fed.index} is ${elements[s.fed.index]}${n === elements[s.fed.index] ? '' : `, giving ${n}`}, outside the bounds of "${s.name}" (${s.min}..${s.max})`,
      );
    values[s.name] = n;
  }
  return values;
}

/** The elements of an int64, int32 or float32 (Resize's scales, OneHot's depth) input as numbers. */
export function fedElements(dtype: string, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dtype === 'int64' ? 8 : 4;
  return Array.from({ length: bytes.byteLength / size }, (_, i) =>
    size === 8
      ? Number(view.getBigInt64(8 * i, true))
      : dtype === 'float32'
        ? view.getFloat32(4 * i, true)
        : view.getInt32(4 * i, true),
  );
}

/** Expand's shape read at run time broadcast with dims `from` (right-aligned; a 1 takes the other's dim). */
function expandedDims(where: string, shape: readonly number[], from: readonly number[]): number[] {
  const rank = Math.max(shape.length, from.length);
  const at = (dims: readonly number[], i: number) => dims[i - (rank - dims.length)] ?? 1;
  return Array.from({ length: rank }, (_, i) => {
    const [t, d] = [at(shape, i), at(from, i)];
    if (t < 0 || (t !== d && t !== 1 && d !== 1))
      throw new Error(
        `${where} is [${shape.join(',')}], which cannot expand [${from.join(',')}]: dim ${i} is ${t}`,
      );
    return t === 1 ? d : t;
  });
}

/** Range's element count from start, limit and delta (an input's name or a value), refused if delta is 0. */
function rangeCount(where: string, read: (name: string) => number[], range: FedRange): number {
  const value = (v: string | number) => (typeof v === 'string' ? read(v)[0] : v);
  const [start, limit, delta] = [value(range.start), value(range.limit), value(range.delta)];
  if (delta === 0)
    throw new Error(
      `${where}: ${typeof range.delta === 'string' ? `input "${range.delta}"` : 'delta'} is 0, which no Range may step by`,
    );
  return Math.max(0, Math.ceil((limit - start) / delta));
}

/** STFT's frame count from its fed frame_step and its frame length (FedFrames), each refused out of range. */
function frameCount(where: string, read: (name: string) => number[], step: string, f: FedFrames): number {
  const by = read(step)[0];
  if (by < 1) throw new Error(`${where}: input "${step}" is ${by}; a frame step must be at least 1`);
  const length = typeof f.length === 'string' ? read(f.length)[0] : f.length;
  if (length < 1 || length > f.signal)
    throw new Error(
      `${where}: input "${f.length}" is ${length}; a frame length must be in 1..${f.signal} (the signal's length)`,
    );
  return Math.floor((f.signal - length) / by) + 1;
}

/** Pad's pads read at run time for dims `from`: axis `a`'s padded size, begin pad or cropped count. */
function paddedAxis(
  where: string,
  pads: readonly number[],
  a: number,
  { from, part }: { from: readonly number[]; part: 'size' | 'before' | 'cropped' },
): number {
  const [begin, end] = [pads[a], pads[a + from.length]];
  const size = from[a] + begin + end;
  if (size < 0)
    throw new Error(
      `${where} is [${pads.join(',')}], which crops axis ${a} of [${from.join(',')}] below size 0`,
    );
  return part === 'size' ? size : part === 'before' ? Math.max(begin, 0) : Math.max(-begin, 0);
}

/** Tile's output size from repeats read at run time: `dim` × the count, refused unless the count is ≥ 0. */
function tiledSize(where: string, repeats: readonly number[], index: number, dim: number): number {
  if (repeats[index] < 0)
    throw new Error(`${where} is [${repeats.join(',')}], whose element ${index} is no count ≥ 0`);
  return dim * repeats[index];
}

/** A Resize's output size from a scale read at run time: floor(dim × scale), refused unless the scale is positive. */
function scaledSize(where: string, scales: readonly number[], index: number, dim: number): number {
  if (!(scales[index] > 0))
    throw new Error(`${where} is [${scales.join(',')}], whose element ${index} is no positive scale`);
  return Math.floor(dim * scales[index]);
}

/** Sizes read at run time (Split's split): refused unless each is ≥ 0 and they sum to `sum`. */
function checkParts(where: string, parts: readonly number[], sum: number): void {
  const total = parts.reduce((a, b) => a + b, 0);
  if (parts.some((p) => p < 0) || total !== sum)
    throw new Error(`${where} is [${parts.join(',')}], not sizes ≥ 0 that sum to ${sum}`);
}

/**
 * A Reshape target read at run time, resolved as Reshape does (0 copies the dim of `from` unless
 * `allowzero`, one -1 takes what the others leave); refused unless its product is the element count.
 */
function reshapeTarget(
  where: string,
  target: readonly number[],
  { from, allowzero }: { from: readonly number[]; allowzero: boolean },
): number[] {
  const total = from.reduce((a, b) => a * b, 1);
  const refuse = (why: string): never => {
    throw new Error(`${where} is [${target.join(',')}], which cannot reshape [${from.join(',')}]: ${why}`);
  };
  const dims = target.map((d, i) => {
    if (d < -1) refuse(`dim ${i} is ${d}`);
    if (d === 0 && !allowzero) return i < from.length ? from[i] : refuse(`dim ${i} copies a dim it lacks`);
    return d;
  });
  const inferred = dims.indexOf(-1);
  if (inferred >= 0) {
    if (dims.lastIndexOf(-1) !== inferred) refuse('more than one -1');
    const known = dims.reduce((a, d) => (d === -1 ? a : a * d), 1);
    if (known === 0 || total % known !== 0) refuse(`${total} elements do not divide by ${known}`);
    dims[inferred] = total / known;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== total) refuse(`${count} elements, not ${total}`);
  return dims;
}

/**
 * Axes read at run time (Unsqueeze's, Squeeze's, a Reduce*'s) applied to dims `from`: the dims of the
 * result. Refused unless each axis is within the rank (negative ones wrap), none repeats, and a squeezed
 * dim is 1; a reduced dim becomes 1 with `keepdims`, else goes.
 */
function dimsWithAxes(where: string, axes: readonly number[], { op, from, keepdims }: FedAxes): number[] {
  const rank = op === 'unsqueeze' ? from.length + axes.length : from.length;
  const refuse = (why: string): never => {
    throw new Error(`${where} is [${axes.join(',')}], which cannot ${op} [${from.join(',')}]: ${why}`);
  };
  const picked = axes.map((a) => {
    if (a < -rank || a >= rank) refuse(`axis ${a} is outside ${-rank}..${rank - 1}`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(picked).size !== picked.length) refuse('an axis repeats');
  if (op === 'reduce' && keepdims) return from.map((d, i) => (picked.includes(i) ? 1 : d));
  if (op !== 'unsqueeze') {
    if (op === 'squeeze') for (const a of picked) if (from[a] !== 1) refuse(`dim ${a} is ${from[a]}, not 1`);
    return from.filter((_, i) => !picked.includes(i));
  }
  const rest = [...from];
  return Array.from({ length: rank }, (_, i) => (picked.includes(i) ? 1 : rest.shift()!));
}

/**
 * A Slice of dims `from` whose starts, ends, axes or steps are read at run time (FedSlice), resolved as
 * Slice resolves them (negative indices wrap, then clamp to the axis): per axis of `from`, the element
 * count, the first index read and the step, forward or backward (a step past the axis length reads at
 * most one element, so it is capped there). Refused, naming the input, when an axis is out of range or
 * repeats, or a step is 0.
 */
function slicePlan(where: string, read: (name: string) => number[], slice: FedSlice) {
  const { from } = slice;
  const values = (v: string | number[]) => (typeof v === 'string' ? read(v) : v);
  const named = (v: string | number[] | undefined, what: string) =>
    typeof v === 'string' ? `input "${v}"` : what;
  const starts = values(slice.starts);
  const ends = values(slice.ends);
  const axes = slice.axes === undefined ? starts.map((_, i) => i) : values(slice.axes);
  const steps = slice.steps === undefined ? starts.map(() => 1) : values(slice.steps);
  const refuse = (v: string | number[] | undefined, what: string, why: string): never => {
    throw new Error(
      `${where}: ${named(v, what)} is [${values(v ?? []).join(',')}], which cannot slice [${from.join(',')}]: ${why}`,
    );
  };
  const plan = from.map((d) => ({ count: d, first: 0, forward: 1, backward: 0 }));
  const r = from.length;
  const seen = new Set<number>();
  axes.forEach((given, j) => {
    if (given < -r || given >= r) refuse(slice.axes, 'axes', `axis ${given} is outside ${-r}..${r - 1}`);
    const a = given < 0 ? given + r : given;
    if (seen.has(a)) refuse(slice.axes, 'axes', `axis ${a} repeats`);
    seen.add(a);
    const [dim, step] = [from[a], steps[j]];
    if (step === 0) refuse(slice.steps, 'steps', `step ${j} is 0`);
    const wrap = (i: number) => (i < 0 ? i + dim : i);
    const clamp = (i: number, lo: number, hi: number) => Math.min(Math.max(i, lo), hi);
    const [start, end] =
      step > 0
        ? [clamp(wrap(starts[j]), 0, dim), clamp(wrap(ends[j]), 0, dim)]
        : [clamp(wrap(starts[j]), 0, dim - 1), clamp(wrap(ends[j]), -1, dim - 1)];
    const count = Math.max(0, Math.ceil((step > 0 ? end - start : start - end) / Math.abs(step)));
    const size = Math.min(Math.abs(step), Math.max(dim, 1));
    plan[a] = {
      count,
      first: count ? start : 0,
      forward: step > 0 ? size : 0,
      backward: step < 0 ? size : 0,
    };
  });
  return plan;
}

/**
 * The dims block's int32 words: each symbol's value in the block's order. A symbol without a value is
 * refused rather than run as zero, but a size a kernel computes during the run (`computedBy`) keeps the
 * word in `current` (0 without one): a kernel of init() may have stored it.
 */
export function dimsBlockWords(
  where: string,
  block: DimsBlock,
  values: Readonly<Record<string, number>>,
  current?: Int32Array,
): Int32Array<ArrayBuffer> {
  return Int32Array.from(block.symbols, (s, i) => {
    if (s.computedBy !== undefined) return current?.[i] ?? 0;
    const value = values[s.name];
    if (value === undefined) throw new Error(`${where}: no value for shape symbol "${s.name}"`);
    return value;
  });
}

/** The sizes the run's kernels computed (DimsBlock `computedBy`), read from the dims block's words after it. */
export function computedSymbols(block: DimsBlock | undefined, words: Int32Array): Record<string, number> {
  const values: Record<string, number> = {};
  block?.symbols.forEach((s, i) => s.computedBy !== undefined && (values[s.name] = words[i]));
  return values;
}
