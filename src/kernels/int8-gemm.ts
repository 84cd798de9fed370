/**
 * The int8 gemm's arithmetic (GemmStmt.int8), as the interpreter runs it and tests compare against:
 * the float32 operand quantized per row of A (int8 weights in B) or per column of B (int8 weights in A),
 * int8 products summed exactly, the sum dequantized by the two scales, then the float32 gemm epilogue.
 */
import type { GemmStmt } from './ir.js';

/** Activation rows the int8 gemm quantizes at once (its 4 SIMD lanes): the scratch holds whole groups. */
const ACTIVATION_ROWS_STEP = 4;
/** k per step of the int8 gemm: each quantized row is padded with zeros to a multiple of it. */
export const INT8_K_STEP = 8;

/**
 * An int8 gemm's activation scratch (Int8Weights.activations): `rows` quantized rows of `rowBytes`
 * (K padded to INT8_K_STEP), in whole groups of rows, then one float32 scale per row from `scalesAt`.
 */
export function int8ActivationLayout(rows: number, K: number) {
  const rowBytes = Math.ceil(K / INT8_K_STEP) * INT8_K_STEP;
  const scalesAt = Math.ceil(rows / ACTIVATION_ROWS_STEP) * ACTIVATION_ROWS_STEP * rowBytes;
  return { rowBytes, scalesAt, bytes: scalesAt + rows * 4 };
}

export const int8ActivationBytes = (rows: number, K: number): number => int8ActivationLayout(rows, K).bytes;

/** Quantized activations span ±127, or 0..255 where they are never negative (Int8Weights.unsigned). */
export const activationLimit = (unsigned: boolean | undefined): number => (unsigned ? 255 : 127);

const f = Math.fround;

/** Round half to even, as wasm's `nearest`. */
function nearest(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One vector's quantization: scale = max|x| / L, q = nearest(x · (L / max|x|)); unsigned, a negative
 * value saturates to 0 as the kernel's unsigned narrowing does.
 */
function quantizeActivations(
  x: ArrayLike<number>,
  unsigned: boolean | undefined,
): { q: Int32Array; scale: number } {
  const limit = activationLimit(unsigned);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  const inv = max > 0 ? f(limit / max) : 0;
  const q = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(nearest(f(x[i] * inv)), unsigned ? 0 : -limit);
  return { q, scale: f(max / limit) };
}

type Read = (r: number, c: number) => number;

/**
 * C(m, n) for every m, n through `write`; `a`, `b`, `bias` and `scales` read the views' elements, `activate`
 * applies the gemm's activation.
 */
export function int8Gemm(
  g: GemmStmt,
  read: { a: Read; b: Read; bias?: Read; scales: Read; activate: (value: number) => number },
  write: (m: number, n: number, value: number) => void,
): void {
  const weightsInA = g.a.buf.dtype === 'int8';
  // activations per row of A (weights in B) or per column of B (weights in A)
  const rows = weightsInA ? g.N : g.M;
  const act = Array.from({ length: rows }, (_, i) =>
    quantizeActivations(
      Array.from({ length: g.K }, (_, k) => (weightsInA ? read.b(k, i) : read.a(i, k))),
      g.int8?.unsigned,
    ),
  );
  for (let m = 0; m < g.M; m++)
    for (let n = 0; n < g.N; n++) {
      const x = act[weightsInA ? n : m];
      let acc = 0;
      for (let k = 0; k < g.K; k++) acc += weightsInA ? read.a(m, k) * x.q[k] : x.q[k] * read.b(k, n);
      let value = f(f(acc) * f(x.scale * read.scales(m, n)));
      if (g.alpha !== 1) value = f(value * f(g.alpha));
      if (read.bias) value = f(value + (g.beta === 1 ? read.bias(m, n) : f(read.bias(m, n) * f(g.beta))));
      write(m, n, read.activate(value));
    }
}
