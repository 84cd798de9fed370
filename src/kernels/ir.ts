/**
 * Kernel IR: a loop-level description of one kernel (index space, loads, math, reductions, stores).
 * Built-in ops lower into it; both code generators consume only this.
 *
 * Static sizes are numbers. A size known only at run time is a shape expression: i32 arithmetic
 * (add, sub, mul, div, rem, min, max) over constants and `dim`s, the shape symbols' values, which the
 * runtime writes into the Program's dims block before calling run. Loop extents and gemm row strides may be
 * such expressions; gemm sizes and buffer lengths stay numbers (buffers are placed at their upper bounds). Every expression
 * carries its scalar type, so code generators never infer anything.
 */
import type { DType, TypedArray } from '../ir/dtype.js';
import type { FedElement } from '../ir/graph.js';

/** Scalar types computation happens in. Narrow storage types widen on load and wrap on store. */
export type Scalar = 'f32' | 'f64' | 'i32' | 'i64';

/** A buffer a kernel reads or writes, by id; element type and element count fixed. */
export interface BufRef {
  id: number;
  dtype: DType;
  /** number of elements */
  length: number;
}

export type BinOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div' // div: float division; integer division truncates (signed) as C
  | 'rem' // integer remainder with the sign of the dividend (C fmod for floats)
  | 'min'
  | 'max'
  | 'pow' // floats only
  | 'atan2' // floats only
  | 'and'
  | 'or'
  | 'xor'
  | 'shl'
  | 'shr_s'
  | 'shr_u' // integers only
  | 'div_u'
  | 'rem_u'; // unsigned integer division / remainder

export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'lt_u' | 'le_u' | 'gt_u' | 'ge_u';

export type UnOp =
  | 'neg'
  | 'abs'
  | 'sqrt'
  | 'floor'
  | 'ceil'
  | 'trunc'
  | 'nearest' // nearest: round half to even
  | 'exp'
  | 'log'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'asin'
  | 'acos'
  | 'atan'
  | 'sinh'
  | 'cosh'
  | 'tanh'
  | 'asinh'
  | 'acosh'
  | 'atanh'
  | 'erf'
  | 'not' // integers: bitwise not
  | 'isnan'
  | 'isinf_pos'
  | 'isinf_neg'; // floats → i32 0/1

export type Expr =
  | { k: 'const'; t: Scalar; v: number | bigint }
  /** loop variable (always i32) or local */
  | { k: 'var'; t: Scalar; name: string }
  /** the run-time value of a shape symbol of the Program's dims block */
  | { k: 'dim'; t: 'i32'; name: string }
  /** element `index` (i32, in elements) of a buffer; type = compute type of the buffer's dtype */
  | { k: 'load'; t: Scalar; buf: BufRef; index: Expr }
  | { k: 'bin'; t: Scalar; op: BinOp; a: Expr; b: Expr }
  /** comparison of two values of the same type → i32 0/1 */
  | { k: 'cmp'; t: 'i32'; op: CmpOp; a: Expr; b: Expr }
  | { k: 'un'; t: Scalar; op: UnOp; a: Expr }
  /** numeric conversion; `unsigned` reads an integer source as unsigned. float→int truncates, saturating */
  | { k: 'cast'; t: Scalar; a: Expr; unsigned?: boolean }
  /** cond (i32) ? a : b — both sides are evaluated */
  | { k: 'select'; t: Scalar; cond: Expr; a: Expr; b: Expr };

/**
 * Affine view of a matrix inside a buffer: element (r, c) is buf[offset + r*rs + c*cs]. The row stride may
 * be a shape expression (a plane of H·W known at run time read as a [C, H·W] matrix); the column stride
 * is a number.
 */
export interface MatView {
  buf: BufRef;
  offset: Expr;
  rs: Extent;
  cs: number;
}

/**
 * What a gemm (or a conv's direct loops) applies to each output value before storing it: Relu, Clip, or
 * `map`, any elementwise f32 expression of that value (HardSwish, Swish, GELU as exporters decompose them):
 * `value` reads it as `var EPILOGUE_INPUT` (f32) and otherwise only constants.
 */
export type Activation =
  { op: 'relu' } | { op: 'clip'; min: number; max: number } | { op: 'map'; value: Expr };

/** The variable a `map` activation's expression reads the pre-activation value from. */
export const EPILOGUE_INPUT = 'epilogue_x';

/**
 * float32 GEMM intrinsic: C = act(alpha * A·B + beta * Bias + Residual). Code generators render it as a
 * tiled SIMD kernel. A is M×K, B is K×N, C is M×N with unit column stride.
 */
export interface GemmStmt {
  k: 'gemm';
  M: number;
  N: number;
  K: number;
  a: MatView;
  b: MatView;
  c: MatView;
  alpha: number;
  /** broadcast with zero strides; omitted = no bias term */
  bias?: MatView;
  beta: number;
  /**
   * a float32 M×N matrix added before the activation (a residual connection's skip tensor), addressed
   * with C's strides (rs, cs equal to C's); omitted = none. Float32 gemms only (no `int8`).
   */
  residual?: MatView;
  act?: Activation;
  /**
   * Schedule hint: read B where it lies instead of copying it into packed panels. Set where B is a
   * shifted view that other gemms of the kernel read too (conv-shifted.ts), so packing would copy the
   * same data once per gemm.
   */
  streamB?: boolean;
  /**
   * B is a constant stored in the wasm broadcast form's panel layout (kernels/b-panels.ts,
   * compiler/packed-weights.ts): b.buf holds ⌈N/8⌉ panels of K rows from b.offset on, and b.rs, b.cs
   * (N and 1) describe the matrix it was packed from. Set after lowering, for wasm only.
   */
  packedB?: boolean;
  /** int8 weights: see Int8Weights. Without it every operand is float32. */
  int8?: Int8Weights;
}

/**
 * A gemm whose one int8 operand (A or B) is a constant weight, symmetric with one scale per channel
 * (rows of A, columns of B), and whose float32 operand is quantized at run time, one scale per row of A
 * or column of B: sx = max|x| / L, q = nearest(x · (L / max|x|)) (all zeros when max|x| = 0), with
 * L = 127 (q in ±127), or L = 255 (q in 0..255) where the operand is known never negative (`unsigned`:
 * a Relu's output, say), which halves the rounding error at no cost.
 * Then C = act(alpha · (sx · sw) · Σ_k qa·qb + beta · bias), the sum exact in i32 (src/kernels/int8-gemm.ts
 * is the reference).
 */
export interface Int8Weights {
  /** the weight's scales, addressed like C: (m, 0) with cs 0 for A, (0, n) with rs 0 for B; float32 */
  scales: MatView;
  /** the float32 operand is never negative: quantized to 0..255 (a negative value would become 0) */
  unsigned?: boolean;
  /**
   * int8 scratch of `int8ActivationBytes(rows, K)` bytes (rows: M with the weights in B, N with them in
   * A) where the gemm writes the quantized operand and its scales: a buffer of the memory plan, so it
   * shares the arena with the activations instead of lying past them
   */
  activations: BufRef;
}

/** A loop extent: static, or a shape expression evaluated when the loop starts. */
export type Extent = number | Expr;

export type Stmt =
  /**
   * for (v = 0; v < n; v++) — v is an i32 var; n a number or a shape expression (none when ≤ 0).
   * `parallel`: declared by the lowering, its iterations share nothing (they write disjoint elements and
   * read nothing another iteration writes), so a target may run them in any order or at once.
   */
  | { k: 'loop'; v: string; n: Extent; body: Stmt[]; parallel?: boolean }
  /** declare a local with an initial value (scoped to the kernel, names unique within it) */
  | { k: 'local'; name: string; t: Scalar; init: Expr }
  | { k: 'set'; name: string; value: Expr }
  | { k: 'store'; buf: BufRef; index: Expr; value: Expr }
  | { k: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[] }
  | GemmStmt;

/**
 * What a kernel does with a buffer: reads a node input (`input`), a weight (`weight`), or what init
 * computed and keeps across runs (`state`); writes a node output (`output`); or uses it for itself
 * (`scratch`, also written).
 */
export type BufferRole = 'input' | 'output' | 'weight' | 'scratch' | 'state';

/** A buffer parameter of a kernel: the buffer, its role and its shape (elements = the shape's product). */
export interface KernelParam {
  buf: BufRef;
  role: BufferRole;
  shape: readonly number[];
}

/** A kernel's parameters: every buffer it touches, and the shape symbols (`dim`s) it reads. */
export interface KernelSignature {
  buffers: KernelParam[];
  dims: string[];
}

/** Roles a kernel may not store into. */
export const READ_ONLY_ROLES: ReadonlySet<BufferRole> = new Set(['input', 'weight', 'state']);

export interface Kernel {
  /** for profiles and error messages: usually the node name */
  name: string;
  body: Stmt[];
  /** filled by the lowering (compiler/lower.ts); verify() then checks the body against it */
  signature?: KernelSignature;
}

/** A buffer placed in linear memory by the memory planner. */
export interface PlacedBuffer extends BufRef {
  /** byte offset in linear memory (aligned to 16) */
  offset: number;
}

/** A shape symbol kernels may read (`dim`), with its declared bounds (inclusive, 0 ≤ min ≤ max). */
export interface ShapeSymbol {
  name: string;
  min: number;
  max: number;
  /**
   * Set for a size computed during the run (NonZero's count): the node whose kernel stores it, through a
   * one-element int32 buffer placed on the symbol's word of the dims block; the runtime leaves it alone.
   */
  computedBy?: string;
  /** Set for a size fed as an input's value (TopK's K): element `index` of input `input` (ir/graph.ts FedElement). */
  fed?: FedElement;
}

/**
 * Where the shape symbols' values live at run time: symbol i is the int32 at byte `offset + 4·i` of
 * linear memory (of the WGSL storage buffer alike), written by the runtime before it calls run, so the
 * run export keeps its signature.
 */
export interface DimsBlock {
  /** byte offset in linear memory (aligned to 16), outside every buffer */
  offset: number;
  symbols: ShapeSymbol[];
}

/**
 * What a code generator compiles: every buffer placed, kernels to run once after the weights are
 * loaded (`init`), and the schedule that computes outputs from inputs (`run`).
 */
export interface Program {
  buffers: PlacedBuffer[];
  /** present when kernels read shape symbols */
  dims?: DimsBlock;
  /** total linear memory needed, in bytes */
  memoryBytes: number;
  init: Kernel[];
  run: Kernel[];
}

/**
 * Runs a Program once at compile time (constant folding): writes `inputs`, runs init then run, returns
 * copies of `outputs`. The compiler supplies one (the wasm code generator's), so passes need no backend.
 */
export type ProgramEvaluator = (
  program: Program,
  inputs: { buf: PlacedBuffer; data: TypedArray }[],
  outputs: PlacedBuffer[],
) => TypedArray[];

/** The compute type a storage dtype loads as. */
export function scalarOf(dtype: DType): Scalar {
  switch (dtype) {
    case 'float32':
    case 'float16':
      return 'f32';
    case 'float64':
      return 'f64';
    case 'int64':
    case 'uint64':
      return 'i64';
    case 'string':
      throw new Error('string tensors cannot be computed on');
    default:
      return 'i32';
  }
}
