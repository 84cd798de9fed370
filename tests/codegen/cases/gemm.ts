/**
 * The gemm statement over shapes with tails in every direction, strided and offset views, bias broadcasts,
 * epilogues and batch loops, against a float64 JavaScript reference.
 */
import { add, div, f32, i32, loop, max, min, mul, un, v } from '../../../src/kernels/build.js';
import {
  EPILOGUE_INPUT,
  type Activation,
  type Expr,
  type GemmStmt,
  type MatView,
  type PlacedBuffer,
} from '../../../src/kernels/ir.js';
import { activateValue } from '../../../src/kernels/interpret.js';
import { packBPanels } from '../../../src/kernels/b-panels.js';
import type { KernelCase } from './case.js';

/** Columns of SIMD128's broadcast tile: N one past a multiple of it leaves one tail column. */
const SIMD128_TILE = 8;

/** Element (r, c) of a view is buf[offset + r·rs + c·cs]. */
export interface View {
  offset: number;
  rs: number;
  cs: number;
}

export interface GemmShape {
  M: number;
  N: number;
  K: number;
  a?: Partial<View>;
  b?: Partial<View>;
  c?: Partial<View>;
  bias?: View;
  alpha?: number;
  beta?: number;
  act?: Activation;
  /** run inside a loop of this many batches, each `stride` elements further in A, B and C (bias shared) */
  batch?: number;
  /** B (K×N, row-major, not batched) stored in panels, as compile time packs a constant B (GemmStmt.packedB) */
  packedB?: boolean;
  /** add a residual (GemmStmt.residual): M×N with C's strides, in the Bias buffer after the bias (not batched) */
  residual?: boolean;
  /** B read in place, not packed into panels at run time (GemmStmt.streamB) */
  streamB?: boolean;
}

const rand = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);

/** Buffer length a view needs for r rows and c columns. */
const extent = (view: View, r: number, c: number) => view.offset + (r - 1) * view.rs + (c - 1) * view.cs + 1;

function views(g: GemmShape) {
  return {
    av: { offset: 0, rs: g.K, cs: 1, ...g.a },
    bv: { offset: 0, rs: g.N, cs: 1, ...g.b },
    cv: { offset: 0, rs: g.N, cs: 1, ...g.c },
  };
}

/** Where the residual starts in the Bias buffer: after the bias. */
const residualOffset = (g: GemmShape) => (g.bias ? extent(g.bias, g.M, g.N) : 0);

/** Elements between batches: the largest of the three views. */
function strideOf(g: GemmShape): number {
  const { av, bv, cv } = views(g);
  return Math.max(extent(av, g.M, g.K), extent(bv, g.K, g.N), extent(cv, g.M, g.N));
}

/** C after the gemm, batch by batch. */
export function gemmReference(
  g: GemmShape,
  A: Float32Array,
  B: Float32Array,
  Bias: Float32Array,
  C: Float32Array,
) {
  const { av, bv, cv } = views(g);
  const stride = strideOf(g);
  const out = Float32Array.from(C);
  for (let t = 0; t < (g.batch ?? 1); t++)
    for (let m = 0; m < g.M; m++)
      for (let n = 0; n < g.N; n++) {
        let acc = 0;
        for (let k = 0; k < g.K; k++)
          acc +=
            A[t * stride + av.offset + m * av.rs + k * av.cs] *
            B[t * stride + bv.offset + k * bv.rs + n * bv.cs];
        let value = (g.alpha ?? 1) * acc;
        if (g.bias) value += (g.beta ?? 1) * Bias[g.bias.offset + m * g.bias.rs + n * g.bias.cs];
        if (g.residual) value += Bias[residualOffset(g) + m * cv.rs + n * cv.cs];
        if (g.act?.op === 'relu') value = Math.max(value, 0);
        if (g.act?.op === 'clip') value = Math.min(Math.max(value, g.act.min), g.act.max);
        if (g.act?.op === 'map') value = activateValue(g.act, value);
        out[t * stride + cv.offset + m * cv.rs + n * cv.cs] = value;
      }
  return out;
}

/** The gemm statement over [A, B, Bias, C]; `at` places the A, B and C views (the bias is never batched). */
function gemmOf(g: GemmShape, [A, B, Bias, C]: PlacedBuffer[], at: (offset: number) => Expr): GemmStmt {
  const { av, bv, cv } = views(g);
  const mv = (buf: PlacedBuffer, view: View): MatView => ({
    buf,
    offset: buf === Bias ? i32(view.offset) : at(view.offset),
    rs: view.rs,
    cs: view.cs,
  });
  return {
    k: 'gemm',
    M: g.M,
    N: g.N,
    K: g.K,
    a: mv(A, av),
    b: mv(B, bv),
    c: mv(C, cv),
    alpha: g.alpha ?? 1,
    beta: g.beta ?? 1,
    ...(g.bias ? { bias: mv(Bias, g.bias) } : {}),
    ...(g.residual ? { residual: mv(Bias, { ...cv, offset: residualOffset(g) }) } : {}),
    ...(g.act ? { act: g.act } : {}),
    ...(g.packedB ? { packedB: true } : {}),
    ...(g.streamB ? { streamB: true } : {}),
  };
}

/** The inputs a shape gets: A, B, Bias (one unused element without a bias) and C's initial contents. */
export function gemmInputs(g: GemmShape) {
  const { av, bv, cv } = views(g);
  const size = (view: View, r: number, c: number) => (g.batch ? g.batch * strideOf(g) : extent(view, r, c));
  return [
    rand(size(av, g.M, g.K), 1),
    rand(size(bv, g.K, g.N), 2),
    g.bias || g.residual
      ? rand(residualOffset(g) + (g.residual ? extent({ ...cv, offset: 0 }, g.M, g.N) : 0), 3)
      : new Float32Array(1),
    rand(size(cv, g.M, g.N), 4),
  ];
}

/** A gemm case; the error allowed grows with √K, as float32 accumulation error does. */
export function gemmCase(name: string, g: GemmShape): KernelCase {
  const inputs = gemmInputs(g);
  const stored = g.packedB ? inputs.map((data, i) => (i === 1 ? packBPanels(data, g.K, g.N) : data)) : inputs;
  const tol = 1e-5 * Math.min(4 * Math.sqrt(g.K), g.K);
  const stride = strideOf(g);
  return {
    name,
    buffers: stored.map((data) => ({ dtype: 'float32', data: Array.from(data) })),
    program: (bufs) =>
      g.batch
        ? [loop('t', g.batch, [gemmOf(g, bufs, (offset) => add(i32(offset), mul(v('t'), i32(stride))))])]
        : [gemmOf(g, bufs, i32)],
    expect: {
      3: Array.from(
        gemmReference(g, ...(inputs as [Float32Array, Float32Array, Float32Array, Float32Array])),
      ),
    },
    tolerance: { rel: 1e-5, abs: tol },
  };
}

const dims = ({ M, N, K }: GemmShape) => `${M}×${N}×${K}`;

/** `map` activations (Activation) as fuse-epilogue builds them: HardSwish, Swish and GELU of the value x. */
const x = v(EPILOGUE_INPUT, 'f32');
export const HARD_SWISH: Activation = {
  op: 'map',
  value: mul(x, max(f32(0), min(f32(1), add(mul(x, f32(1 / 6)), f32(0.5))))),
};
const SWISH: Activation = { op: 'map', value: mul(x, div(f32(1), add(f32(1), un('exp', un('neg', x))))) };
export const GELU: Activation = {
  op: 'map',
  value: mul(mul(x, f32(0.5)), add(un('erf', mul(x, f32(Math.SQRT1_2))), f32(1))),
};

const ODD_SHAPE: GemmShape = {
  M: 37,
  N: 29,
  K: 53,
  alpha: 0.5,
  bias: { offset: 0, rs: 0, cs: 1 },
  act: { op: 'relu' },
};
const BATCHED_SHAPE: GemmShape = { M: 5, N: 7, K: 3, bias: { offset: 0, rs: 7, cs: 1 }, batch: 3 };

/** Shapes where tiles leave remainders in m, n and k, and ones that take each special path. */
export const GEMM_SHAPES: [string, GemmShape][] = [
  ...[
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 1],
    [5, 9, 3],
    [7, 13, 11],
    [9, 3, 2],
    [17, 31, 19],
    [4, 12, 16],
    [1, 100, 3],
    [33, 1, 5],
  ].map(([M, N, K]): [string, GemmShape] => [`${M}×${N}×${K} tails`, { M, N, K }]),
  ['64×96×80 with alpha', { M: 64, N: 96, K: 80, alpha: 0.5 }],
  // 64 rows and columns or more: the webgpu target's 64×64 tiles, with tails in m, n and k
  [
    '67×130×33 tails past 64×64 tiles, full bias, relu',
    { M: 67, N: 130, K: 33, bias: { offset: 0, rs: 130, cs: 1 }, act: { op: 'relu' } },
  ],
  ['65×64×17 with B read transposed', { M: 65, N: 64, K: 17, b: { offset: 0, rs: 1, cs: 17 } }],
  [
    '128×70×40 into offset C with padded rows, alpha',
    { M: 128, N: 70, K: 40, c: { offset: 5, rs: 75 }, alpha: 0.25 },
  ],
  ['tails in every direction with alpha, row-broadcast bias and relu', ODD_SHAPE],
  [
    'HardSwish epilogue, tails in every direction, row bias',
    { M: 13, N: 21, K: 11, bias: { offset: 0, rs: 0, cs: 1 }, act: HARD_SWISH },
  ],
  ['Swish epilogue, packed tail panel, alpha', { M: 9, N: 29, K: 7, alpha: 0.5, act: SWISH }],
  [
    'GELU epilogue, B read transposed (dot form), column bias',
    { M: 7, N: 5, K: 19, b: { offset: 0, rs: 1, cs: 19 }, bias: { offset: 0, rs: 1, cs: 0 }, act: GELU },
  ],
  // M ≥ 2 tiles of rows and N ≥ SIMD128_TILE pack B; tiles with m, n and k remainders; padded B rows
  [
    'packed B panels, one at a time (M ≤ N), padded B rows, column bias, relu',
    { M: 10, N: 27, K: 13, b: { offset: 1, rs: 30 }, bias: { offset: 0, rs: 1, cs: 0 }, act: { op: 'relu' } },
  ],
  [
    'packed B panels, all first (M > N), row bias with beta',
    { M: 27, N: 19, K: 9, b: { rs: 21 }, bias: { offset: 2, rs: 0, cs: 1 }, beta: 0.5 },
  ],
  // the N % SIMD128_TILE tail columns as one zero-padded panel, 4, 8 or 12 wide, whose tiles store only the real
  // columns
  [
    'packed tail panel of 5 columns (8 wide), one panel at a time, column-varying bias, clip',
    {
      M: 9,
      N: 29,
      K: 17,
      bias: { offset: 1, rs: 0, cs: 1 },
      act: { op: 'clip', min: -2, max: 3 },
    },
  ],
  ['packed tail panel of exactly 4 columns, one panel at a time', { M: 12, N: 20, K: 7, alpha: 0.5 }],
  [
    'packed tail panel of 6 columns, all panels first (M > N), full bias, padded B and C rows',
    {
      M: 33,
      N: 14,
      K: 5,
      b: { offset: 2, rs: 17 },
      c: { offset: 1, rs: 15 },
      bias: { offset: 0, rs: 14, cs: 1 },
      beta: 2,
    },
  ],
  [
    'packed B panels, offset C with padded rows, alpha',
    { M: 41, N: 16, K: 33, c: { offset: 3, rs: 17 }, alpha: 2 },
  ],
  // N % SIMD128_TILE = 1 (a 7×7 map's 49 columns): the single tail column packed contiguous in k, in the dot form;
  // K below 4 runs only its scalar k tail
  ...[
    [9, SIMD128_TILE + 1, 3],
    [13, 2 * SIMD128_TILE + 1, 2],
    [23, SIMD128_TILE + 1, 1],
    [37, 2 * SIMD128_TILE + 1, 19],
    [8, 7 * SIMD128_TILE + 1, 4],
  ].map(([M, N, K]): [string, GemmShape] => [`${M}×${N}×${K} one tail column in the dot form`, { M, N, K }]),
  [
    'one tail column, all panels first (M > N), 7×7 map, full bias, relu',
    { M: 50, N: 49, K: 37, bias: { offset: 0, rs: 49, cs: 1 }, act: { op: 'relu' } },
  ],
  [
    'one tail column, one panel at a time (M ≤ N), padded A rows, row bias, alpha, HardSwish',
    { M: 11, N: 49, K: 21, a: { rs: 23 }, bias: { offset: 0, rs: 0, cs: 1 }, alpha: 0.5, act: HARD_SWISH },
  ],
  [
    'one tail column, M > N, column bias with beta, offset C with padded rows',
    { M: 30, N: 25, K: 53, c: { offset: 2, rs: 27 }, bias: { offset: 1, rs: 1, cs: 0 }, beta: -0.5 },
  ],
  [
    'one tail column with A transposed (not contiguous in k): a broadcast tail tile',
    { M: 12, N: SIMD128_TILE + 1, K: 7, a: { rs: 1, cs: 12 } },
  ],
  [
    'strided views: transposed A, padded rows, offsets',
    { M: 6, N: 10, K: 5, a: { rs: 1, cs: 6 }, b: { offset: 3, rs: 13 }, c: { offset: 2, rs: 12 } },
  ],
  ['strided views: transposed A and B', { M: 5, N: 9, K: 4, a: { rs: 1, cs: 5 }, b: { rs: 1, cs: 4 } }],
  ['strided views: B with column stride 2', { M: 4, N: 6, K: 3, b: { rs: 13, cs: 2 } }],
  [
    'B neither row- nor column-contiguous, with the whole epilogue',
    {
      M: 5,
      N: 7,
      K: 3,
      b: { rs: 15, cs: 2 },
      bias: { offset: 1, rs: 1, cs: 0 },
      alpha: 2,
      beta: 3,
      act: { op: 'clip', min: -1, max: 2 },
    },
  ],
  ['row bias with beta', { M: 5, N: 11, K: 6, bias: { offset: 0, rs: 0, cs: 1 }, beta: 2 }],
  ['column bias', { M: 5, N: 11, K: 6, bias: { offset: 1, rs: 1, cs: 0 } }],
  ['scalar bias with negative beta', { M: 5, N: 11, K: 6, bias: { offset: 2, rs: 0, cs: 0 }, beta: -1 }],
  [
    'full bias with alpha and beta',
    { M: 5, N: 11, K: 6, bias: { offset: 0, rs: 11, cs: 1 }, alpha: 3, beta: 0.25 },
  ],
  [
    'column bias with negative beta and clip',
    {
      M: 20,
      N: 17,
      K: 9,
      bias: { offset: 2, rs: 1, cs: 0 },
      beta: -0.5,
      act: { op: 'clip', min: -1, max: 1.5 },
    },
  ],
  ...[
    [1, 1, 1],
    [3, 9, 4],
    [5, 7, 11],
    [8, 12, 35],
    [2, 5, 64],
  ].map(([M, N, K]): [string, GemmShape] => [
    `transposed B (dot-product form) ${M}×${N}×${K}`,
    { M, N, K, b: { rs: 1, cs: K } },
  ]),
  [
    'transposed B with offset, row bias and relu',
    {
      M: 5,
      N: 6,
      K: 9,
      b: { offset: 2, rs: 1, cs: 11 },
      bias: { offset: 0, rs: 0, cs: 1 },
      act: { op: 'relu' },
    },
  ],
  [
    'transposed B with padded A rows, full bias, alpha and beta',
    {
      M: 3,
      N: 10,
      K: 7,
      a: { rs: 9 },
      b: { rs: 1, cs: 7 },
      bias: { offset: 0, rs: 10, cs: 1 },
      alpha: 2,
      beta: 0.5,
    },
  ],
  // N = 1 with A rows and the B column contiguous in k: the dot form, vectorized over k (a squeeze-excite FC)
  ...[
    [1, 4],
    [3, 5],
    [5, 17],
    [6, 8],
    [17, 33],
    [33, 144],
  ].map(([M, K]): [string, GemmShape] => [
    `matrix-vector ${M}×1×${K}, column bias, relu`,
    { M, N: 1, K, bias: { offset: 0, rs: 1, cs: 0 }, act: { op: 'relu' } },
  ]),
  [
    'matrix-vector with padded A rows, offset B and C, alpha, clip',
    {
      M: 7,
      N: 1,
      K: 19,
      a: { rs: 23 },
      b: { offset: 2, rs: 1 },
      c: { offset: 1, rs: 3 },
      alpha: 0.5,
      act: { op: 'clip', min: -1, max: 1.5 },
    },
  ],
  ['relu epilogue', { M: 6, N: 10, K: 4, act: { op: 'relu' } }],
  [
    'clip epilogue with row bias',
    { M: 6, N: 10, K: 4, bias: { offset: 0, rs: 0, cs: 1 }, act: { op: 'clip', min: -0.5, max: 0.75 } },
  ],
  // N = 5: 4-wide vector tiles and a scalar tail both splat the bounds
  [
    'clip with only a min (max = inf), as in melspectrogram models',
    { M: 5, N: 5, K: 3, act: { op: 'clip', min: 1e-10, max: Infinity } },
  ],
  ['clip with only a max (min = -inf)', { M: 5, N: 5, K: 3, act: { op: 'clip', min: -Infinity, max: 0.25 } }],
  ['batched through an enclosing loop', { M: 5, N: 6, K: 7, batch: 3 }],
  ['batched through an enclosing loop, full bias shared by the batches', BATCHED_SHAPE],
];

const named = ([name, g]: [string, GemmShape]) =>
  gemmCase(name.includes('×') ? name : `${name}, ${dims(g)}`, g);

export const GEMM_CASES: KernelCase[] = GEMM_SHAPES.map(named);

/**
 * B packed at compile time (a constant B, GemmStmt.packedB), for the wasm target only: the panels read in
 * place at every M, the tail panel 4, 8 or 12 wide.
 */
export const PACKED_B_CASES: KernelCase[] = (
  [
    ...[
      [1, 13, 17],
      [3, 21, 33],
      [7, 8, 15],
      [19, 13, 9],
      [1, 100, 3],
      [5, 9, 1],
      // one tail column (N % SIMD128_TILE = 1), read contiguous in k in the dot form, at every M below a tile pair
      ...[1, 2, 3, 4, 5, 6, 7].map((M) => [M, 1 + SIMD128_TILE * (1 + (M % 3)), 1 + (M % 3)]),
      [6, 2 * SIMD128_TILE + 1, 13],
      [26, 2 * SIMD128_TILE + 1, 11],
      [3, 49, 2],
    ].map(([M, N, K]): [string, GemmShape] => [
      `${M}×${N}×${K} B packed at compile time`,
      { M, N, K, packedB: true },
    ]),
    [
      'B packed at compile time, one panel at a time (M ≤ N), tail of 3, row bias, relu',
      { M: 40, N: 43, K: 17, bias: { offset: 0, rs: 0, cs: 1 }, act: { op: 'relu' }, packedB: true },
    ],
    [
      'B packed at compile time, all panels per row block (M > N), full bias, alpha, beta',
      { M: 37, N: 29, K: 53, bias: { offset: 0, rs: 29, cs: 1 }, alpha: 0.5, beta: 2, packedB: true },
    ],
  ] as [string, GemmShape][]
).map(named);

/** Columns of the widest broadcast tile (relaxed SIMD's; SIMD128's divides 24 too). */
const WIDEST_TILE = 12;

/**
 * Every tail of the broadcast form's tiles, N % width = 0 .. width − 1 for both tile widths (a zero-padded
 * tail panel 4 to 12 wide, or one column in the dot form), and N below a tile, each at a row count below a
 * pair of tiles (M = 1..7, K = 1..3) and at one past it (M above or below N, K longer, not a multiple of 4):
 * for the wasm target, B row-major and packed at compile time.
 */
export const TILE_TAIL_CASES: KernelCase[] = Array.from({ length: WIDEST_TILE }, (_, t) => [
  { M: 1 + (t % 7), N: WIDEST_TILE + t, K: 1 + (t % 3) },
  { M: 7 + 5 * t, N: 2 * WIDEST_TILE + t, K: 5 + 3 * t },
  ...(t ? [{ M: 2 + (t % 6), N: t, K: 1 + (t % 3) }] : []),
])
  .flat()
  .flatMap((g): [string, GemmShape][] => [
    [`${dims(g)} tile tails`, g],
    [`${dims(g)} tile tails, B packed at compile time`, { ...g, packedB: true }],
  ])
  .map(named);

/** N with a 4- or 8-column tail of relaxed SIMD's 12-wide tile, SIMD128's 8 whole or with a tail of 4, or neither. */
const REMAINDER_N = [4, 16, 28, 40, 8, 20, 32, 13, 37];
/** K of one, two and three steps, odd and long. */
const REMAINDER_K = [1, 2, 3, 4, 5, 7, 64, 131, 300];

/**
 * Remainder tiles (the M % rows rows and N % cols columns a broadcast tile leaves): every M = 1..13 (each M % 3 and M % 4) at two N of REMAINDER_N and a K of
 * REMAINDER_K, with a bias, residual or activation in turn; B row-major (packed at run time or not), packed
 * at compile time, and streamed in place.
 */
export const REMAINDER_TILE_CASES: KernelCase[] = Array.from({ length: 13 }, (_, i) => i + 1)
  .flatMap((M) =>
    [0, 4].map((shift): GemmShape => {
      const N = REMAINDER_N[(M + shift) % REMAINDER_N.length];
      const K = REMAINDER_K[(M + shift) % REMAINDER_K.length];
      const epilogues: Partial<GemmShape>[] = [
        { bias: { offset: 0, rs: 1, cs: 0 }, act: { op: 'relu' } },
        { residual: true, act: HARD_SWISH },
        { bias: { offset: 1, rs: N, cs: 1 }, alpha: 0.5, beta: 2 },
        {},
      ];
      return { M, N, K, ...epilogues[(M + shift / 4) % epilogues.length] };
    }),
  )
  .flatMap((g): [string, GemmShape][] => [
    [`${dims(g)} remainder tiles`, g],
    [`${dims(g)} remainder tiles, B packed at compile time`, { ...g, packedB: true }],
    [`${dims(g)} remainder tiles, B streamed`, { ...g, streamB: true }],
  ])
  .map(named);

const caseOf = (shape: GemmShape) => GEMM_CASES[GEMM_SHAPES.findIndex(([, g]) => g === shape)];

/** Cases whose WGSL dispatches are checked too: the tiled shader, and a gemm in a loop (lowered to loops). */
export const ODD_GEMM_CASE = caseOf(ODD_SHAPE);
export const BATCHED_GEMM_CASE = caseOf(BATCHED_SHAPE);

/**
 * Gemms adding a residual (GemmStmt.residual) in every form: broadcast tiles with tails, packed B panels
 * (compile-time packed too), the dot form, the scalar loops of a B with column stride 2, padded C rows.
 */
export const RESIDUAL_GEMM_CASES: KernelCase[] = (
  [
    ['tails in every direction, relu', { M: 7, N: 13, K: 11, residual: true, act: { op: 'relu' } }],
    [
      'packed B panels, row bias, padded C rows, alpha',
      {
        M: 19,
        N: 29,
        K: 9,
        c: { offset: 3, rs: 31 },
        bias: { offset: 0, rs: 0, cs: 1 },
        alpha: 0.5,
        residual: true,
      },
    ],
    ['one row', { M: 1, N: 9, K: 5, bias: { offset: 0, rs: 0, cs: 1 }, residual: true }],
    [
      'one tail column in the dot form, M > N, row bias',
      { M: 27, N: 2 * SIMD128_TILE + 1, K: 14, bias: { offset: 0, rs: 0, cs: 1 }, residual: true },
    ],
    [
      'transposed B (dot form), HardSwish',
      { M: 5, N: 6, K: 9, b: { rs: 1, cs: 9 }, act: HARD_SWISH, residual: true },
    ],
    ['matrix-vector (N = 1)', { M: 9, N: 1, K: 17, residual: true }],
    [
      'B with column stride 2 (scalar loops), clip',
      { M: 4, N: 6, K: 3, b: { rs: 13, cs: 2 }, residual: true, act: { op: 'clip', min: -1, max: 1 } },
    ],
  ] as [string, GemmShape][]
).map(([name, g]) => gemmCase(`residual: ${name} ${dims(g)}`, g));

/** The same with B packed at compile time (GemmStmt.packedB). */
export const PACKED_B_RESIDUAL_CASES: KernelCase[] = [
  gemmCase(`residual, B packed at compile time, one tail column in the dot form 21×${SIMD128_TILE + 1}×13`, {
    M: 21,
    N: SIMD128_TILE + 1,
    K: 13,
    packedB: true,
    residual: true,
  }),
  gemmCase('residual, B packed at compile time, relu 19×29×9', {
    M: 19,
    N: 29,
    K: 9,
    packedB: true,
    residual: true,
    act: { op: 'relu' },
  }),
];

/** Bytes per wasm memory page. */
const PAGE = 65536;

/**
 * `g`'s case with B placed last, ending 64 bytes (the planner's slack) before the end of a memory page, so
 * that the module's memory ends there too: a read more than 64 bytes past B traps. B's K·N must be a
 * multiple of 4 (its start stays 16-byte aligned).
 */
function bEndingMemory(name: string, g: GemmShape): KernelCase {
  if ((g.K * g.N) % 4) throw new Error('test: K·N is not a multiple of 4');
  const c = gemmCase(name, g);
  const [A, B, Bias, C] = c.buffers;
  const before = [A, Bias, C].map((s) => ({ dtype: 'float32' as const, length: s.data!.length }));
  // place() puts each buffer 16-byte aligned, 16 bytes after the one before
  const padStart = 64 + before.reduce((at, s) => at + Math.ceil((s.length * 4) / 16) * 16 + 16, 0);
  const bStart = Math.ceil((padStart + 16 + g.K * g.N * 4 + 64) / PAGE) * PAGE - 64 - g.K * g.N * 4;
  const pad = { dtype: 'float32' as const, length: (bStart - 16 - padStart) / 4 };
  return {
    ...c,
    buffers: [A, Bias, C, pad, B],
    program: (bufs) => c.program([bufs[0], bufs[4], bufs[1], bufs[2]]),
    expect: { 2: c.expect![3] },
  };
}

/**
 * B packed at compile time, panel by panel (M ≤ N) over at least two row blocks of both tiles: each row
 * block touches the next panel's cache lines (codegen/wasm/panel-touch.ts), the last whole panel the first.
 * B ends the module's memory, so a touch past B traps; the tails in M, N and K are not multiples of the tiles.
 */
export const PANEL_TOUCH_CASES: KernelCase[] = (
  [
    [
      'tails in M and N, row bias, GELU',
      { M: 37, N: 53, K: 28, bias: { offset: 0, rs: 0, cs: 1 }, act: GELU },
    ],
    ['K = 3: panels of two or three lines', { M: 8, N: 24, K: 3 }],
    ['whole tiles, residual, relu', { M: 64, N: 96, K: 80, residual: true, act: { op: 'relu' } }],
    [
      'one relaxed panel, SIMD128 a panel and a tail',
      { M: 10, N: 12, K: 7, bias: { offset: 0, rs: 12, cs: 1 } },
    ],
    ['50 lines per row block, alpha', { M: 9, N: 36, K: 201, alpha: 0.5 }],
  ] as [string, GemmShape][]
).map(([name, g]) =>
  bEndingMemory(`B packed at compile time, next panels touched: ${name} ${dims(g)}`, { ...g, packedB: true }),
);
