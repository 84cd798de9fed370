/**
 * The int8 gemm (GemmStmt.int8) in SIMD128: int8 weights stay int8 in memory, the float32 operand is
 * quantized per row of A / column of B into a scratch buffer of the memory plan (±127, or 0..255 as unsigned bytes where it is never
 * negative), products are summed in i32, and the epilogue dequantizes: C = act(alpha · sx·sw · acc + beta · bias).
 *
 * Both operands are read as int8 rows along k: P, the rows of A, and Q, the columns of B. The weight side
 * is the weight tensor itself ([channels, K], row after row); the activation side is the scratch copy,
 * whose rows are padded with zeros to a multiple of 8, so the k loop runs whole steps with no tail:
 * the weight bytes a step reads past K (the next row's, at most 7) meet those zeros.
 *
 * Tiles are TILE_ROWS rows × 4 columns of C, one i32x4 accumulator per output element, reduced across
 * lanes at the end of the tile (as XNNPACK's qd8-f32-qc8w `c8` wasmsimd microkernels do): 8 k per step,
 * v128.load8x8_s (_u for unsigned activations) widens both operands to i16 and i32x4.dot_i16x8_s sums
 * their products in pairs (255 · 127 · 2 fits i32 with room).
 *
 * The relaxed module renders the same code. i32x4.relaxed_dot_i8x16_i7x16_add_s would do 16 k per step,
 * exactly when one operand stays in 0..127 (activations quantized to ±63 and offset by +64), but V8 11.3
 * (Node 20 with --experimental-wasm-relaxed-simd, which the runtime's feature detection accepts) gets it
 * wrong: [1,2,3,4]·[10,20,30,40] + 7 gives 600 where workerd gives 307 (measured here), so a bundle
 * using it would compute wrong results on an engine the runtime picks the relaxed module for.
 */
import type { GemmStmt, Int8Weights, MatView } from '../../kernels/ir.js';
import { activationLimit, int8ActivationLayout, INT8_K_STEP } from '../../kernels/int8-gemm.js';
import type { KernelEmitter } from './emitter.js';
import { constText } from './types.js';
import { clampActivation, vectorLanes } from './lanes.js';

/**
 * Rows per tile. 2 rows × 4 columns (8 accumulators, the operands beside them within x86-64's 16 vector
 * registers) measured best: M=128 N=1536 K=384 (a BERT FFN layer) ran at 63 GOP/s against 58 with 3 rows
 * and 54 with 4, the f32 SIMD gemm 43 GFLOP/s (Node 20, one thread, minima of 60 runs).
 */
const TILE_ROWS = 2;
const LANES = 4;
const F32 = 4;
/** k per step of the tile loop; activation rows are padded to a multiple of it. */
const K_STEP = INT8_K_STEP;
const ZERO = '(v128.const i32x4 0 0 0 0)';

const get = (local: string) => `(local.get ${local})`;
const set = (local: string, value: string) => `(local.set ${local} ${value})`;
/** local + i·stride, i an i32 local */
const plus = (base: string, i: string, stride: number) =>
  stride === 0 ? get(base) : `(i32.add ${get(base)} (i32.mul ${get(i)} (i32.const ${stride})))`;

/** Lanes [x0 y0 x1 y1] and [x2 y2 x3 y3] of two i32x4 vectors. */
const interleaveLow = (x: string, y: string) =>
  `(i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 ${x} ${y})`;
const interleaveHigh = (x: string, y: string) =>
  `(i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 ${x} ${y})`;
/** [Σ lanes of a0, Σ a1, Σ a2, Σ a3] */
function laneSums(acc: string[]): string {
  const [a0, a1, a2, a3] = acc;
  const u0 = `(i32x4.add ${interleaveLow(a0, a1)} ${interleaveHigh(a0, a1)})`;
  const u1 = `(i32x4.add ${interleaveLow(a2, a3)} ${interleaveHigh(a2, a3)})`;
  return `(i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${u0} ${u1}) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 ${u0} ${u1}))`;
}

function require(ok: boolean, what: string): void {
  if (!ok) throw new Error(`internal: int8 gemm ${what}`);
}

type StaticView = MatView & { rs: number };
/** A gemm whose views' row strides are numbers: no lowering gives an int8 gemm run-time ones. */
type StaticGemm = GemmStmt & {
  a: StaticView;
  b: StaticView;
  c: StaticView;
  bias?: StaticView;
  int8: Int8Weights & { scales: StaticView };
};

function staticRowStrides(g: GemmStmt): StaticGemm {
  for (const view of [g.a, g.b, g.c, g.bias, g.int8?.scales])
    require(!view || typeof view.rs === 'number', 'needs static row strides');
  return g as StaticGemm;
}

export function renderInt8Gemm(stmt: GemmStmt, e: KernelEmitter): string {
  const g = staticRowStrides(stmt);
  const int8 = g.int8;
  const weightsInA = g.a.buf.dtype === 'int8';
  // activations 0..255 (Int8Weights.unsigned) narrow, store and widen as unsigned bytes
  const sign = int8.unsigned ? 'u' : 's';
  require(g.c.cs === 1, 'needs C with unit column stride');
  require(g.a.cs === 1, 'needs A rows contiguous in k');
  require(weightsInA
    ? g.b.cs === 1
    : g.b.rs === 1, 'needs B columns contiguous (weights) or rows (activations)');
  const channel = (view: StaticView) => (weightsInA ? view.rs : view.cs);
  require(channel(int8.scales) === 1, 'needs contiguous scales');

  const pointer = (view: MatView, hint: string): string => {
    const local = e.temp('i32', hint);
    const { addr, offset } = e.address(view.buf, view.offset, `int8 gemm ${hint}`);
    setup.push(set(local, `(i32.add ${addr} (i32.const ${offset}))`));
    return local;
  };
  const setup: string[] = [];
  const [aBase, bBase, cBase] = [pointer(g.a, 'a'), pointer(g.b, 'b'), pointer(g.c, 'c')];
  const biasBase = g.bias ? pointer(g.bias, 'bias') : '';
  const scaleBase = pointer(int8.scales, 'scales');

  // Int8Weights.activations: the quantized activation rows (padded to whole tiles of rows), then their scales
  const actRows = weightsInA ? g.N : g.M;
  const { rowBytes: Kp, scalesAt: quantBytes, bytes } = int8ActivationLayout(actRows, g.K);
  require(int8.activations.length >= bytes, 'activation scratch too small');
  const quant = e.program.offsets.get(int8.activations.id);
  if (quant === undefined) throw new Error('internal: int8 gemm activation scratch is not placed');
  const actScales = quant + quantBytes;
  const [i0, j0, pp, qp, src, dst, cPtr, biasPtr] = ['i0', 'j0', 'pp', 'qp', 'src', 'dst', 'cp', 'biasp'].map(
    (h) => e.temp('i32', h),
  );

  const quantizeVector = (x: string, inv: string): string => {
    return `(i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul ${x} ${get(inv)})))`;
  };
  const quantizeScalar = (x: string, inv: string): string => {
    return `(i32.trunc_sat_f32_${sign} (f32.nearest (f32.mul ${x} ${get(inv)})))`;
  };
  const narrowed = e.temp('v128', 'q');
  /** four i32 lanes (each within ±127, or 0..255 unsigned) as bytes in lanes 0..3 */
  const narrow = (v: string) =>
    `(i8x16.narrow_i16x8_${sign} (i16x8.narrow_i32x4_s (local.tee ${narrowed} ${v}) ${get(narrowed)}) (i16x8.narrow_i32x4_s ${get(narrowed)} ${get(narrowed)}))`;
  const limitF = constText('f32', activationLimit(int8.unsigned));

  /** Rows of A (weights in B): k contiguous, so 4 k per vector; the scale is a horizontal max. */
  const quantizeRows = (): string => {
    const [mv, mx, inv, k] = [
      e.temp('v128', 'mv'),
      e.temp('f32', 'mx'),
      e.temp('f32', 'inv'),
      e.temp('i32', 'k'),
    ];
    const k4 = Math.floor(g.K / 4);
    const tail = Array.from({ length: g.K % 4 }, (_, t) => k4 * 16 + t * 4);
    const lane = (l: number) => `(f32x4.extract_lane ${l} ${get(mv)})`;
    const body = [
      set(src, plus(aBase, i0, g.a.rs * F32)),
      set(dst, `(i32.add (i32.const ${quant}) (i32.mul ${get(i0)} (i32.const ${Kp})))`),
      set(mv, ZERO),
      k4 ? set(pp, get(src)) : '',
      k4
        ? e.countedLoop(
            k,
            k4,
            [
              set(mv, `(f32x4.max ${get(mv)} (f32x4.abs (v128.load ${get(pp)})))`),
              set(pp, `(i32.add ${get(pp)} (i32.const 16))`),
            ].join('\n'),
          )
        : '',
      set(mx, `(f32.max (f32.max ${lane(0)} ${lane(1)}) (f32.max ${lane(2)} ${lane(3)}))`),
      ...tail.map((at) => set(mx, `(f32.max ${get(mx)} (f32.abs (f32.load offset=${at} ${get(src)})))`)),
      `(f32.store (i32.add (i32.const ${actScales}) (i32.shl ${get(i0)} (i32.const 2))) (f32.div ${get(mx)} ${limitF}))`,
      set(inv, `(select (f32.div ${limitF} ${get(mx)}) (f32.const 0) (f32.gt ${get(mx)} (f32.const 0)))`),
      `(i64.store offset=${Kp - K_STEP} ${get(dst)} (i64.const 0))`,
      set(mv, `(f32x4.splat ${get(inv)})`),
      k4 ? set(pp, get(src)) + set(qp, get(dst)) : '',
      k4
        ? e.countedLoop(
            k,
            k4,
            [
              `(v128.store32_lane 0 ${get(qp)} ${narrow(quantizeVector(`(v128.load ${get(pp)})`, mv))})`,
              set(pp, `(i32.add ${get(pp)} (i32.const 16))`),
              set(qp, `(i32.add ${get(qp)} (i32.const 4))`),
            ].join('\n'),
          )
        : '',
      ...tail.map(
        (at) =>
          `(i32.store8 offset=${at / 4} ${get(dst)} ${quantizeScalar(`(f32.load offset=${at} ${get(src)})`, inv)})`,
      ),
    ];
    return e.countedLoop(i0, g.M, body.filter(Boolean).join('\n'));
  };

  /**
   * Columns of B (weights in A, e.g. a convolution's im2col matrix): four columns at a time, each vector
   * one k of four columns, its bytes stored to four activation rows; the last N % 4 columns one by one.
   */
  const quantizeColumns = (): string => {
    const rowBytes = g.b.rs * F32;
    const [mv, inv, k] = [e.temp('v128', 'mv'), e.temp('v128', 'inv'), e.temp('i32', 'k')];
    const [mx, invS] = [e.temp('f32', 'mx'), e.temp('f32', 'inv')];
    const n4 = Math.floor(g.N / LANES) * LANES;
    const stepSrc = set(src, `(i32.add ${get(src)} (i32.const ${rowBytes}))`);
    const stepDst = set(dst, `(i32.add ${get(dst)} (i32.const 1))`);
    const start = [
      set(src, plus(bBase, j0, F32)),
      set(dst, `(i32.add (i32.const ${quant}) (i32.mul ${get(j0)} (i32.const ${Kp})))`),
    ];
    // 8 k × 4 columns at a time: the 32 quantized bytes narrowed into two vectors (k-major), shuffled into
    // each column's 8 bytes, stored with one 64-bit lane store per column instead of 8 byte stores
    const k8 = Math.floor(g.K / K_STEP);
    const q8 = Array.from({ length: K_STEP }, () => e.temp('v128', 'q8'));
    const [low, high] = [e.temp('v128', 'kLow'), e.temp('v128', 'kHigh')];
    const pairs = (from: number) =>
      `(i8x16.narrow_i16x8_${sign} (i16x8.narrow_i32x4_s ${get(q8[from])} ${get(q8[from + 1])}) (i16x8.narrow_i32x4_s ${get(q8[from + 2])} ${get(q8[from + 3])}))`;
    /** columns c and c + 1, each its 8 k in a row: byte k·4 + c of `low` for k < 4, of `high` after */
    const columns = (c: number) =>
      `(i8x16.shuffle ${[c, c + 1]
        .flatMap((col) =>
          Array.from({ length: K_STEP }, (_, kk) => (kk < 4 ? kk * 4 + col : 16 + (kk - 4) * 4 + col)),
        )
        .join(' ')} ${get(low)} ${get(high)})`;
    const eightK = [
      ...q8.map((q, kk) => set(q, quantizeVector(`(v128.load offset=${kk * rowBytes} ${get(src)})`, inv))),
      set(low, pairs(0)),
      set(high, pairs(4)),
      ...[0, 2].flatMap((c) => [
        set(mv, columns(c)),
        `(v128.store64_lane offset=${c * Kp} 0 ${get(dst)} ${get(mv)})`,
        `(v128.store64_lane offset=${(c + 1) * Kp} 1 ${get(dst)} ${get(mv)})`,
      ]),
      set(src, `(i32.add ${get(src)} (i32.const ${K_STEP * rowBytes}))`),
      set(dst, `(i32.add ${get(dst)} (i32.const ${K_STEP}))`),
    ].join('\n');
    const fours = [
      ...start,
      ...Array.from(
        { length: LANES },
        (_, t) => `(i64.store offset=${t * Kp + Kp - K_STEP} ${get(dst)} (i64.const 0))`,
      ),
      set(mv, ZERO),
      e.countedLoop(
        k,
        g.K,
        [set(mv, `(f32x4.max ${get(mv)} (f32x4.abs (v128.load ${get(src)})))`), stepSrc].join('\n'),
      ),
      `(v128.store (i32.add (i32.const ${actScales}) (i32.shl ${get(j0)} (i32.const 2))) (f32x4.div ${get(mv)} (f32x4.splat ${limitF})))`,
      set(inv, `(v128.and (f32x4.div (f32x4.splat ${limitF}) ${get(mv)}) (f32x4.gt ${get(mv)} ${ZERO}))`),
      set(src, plus(bBase, j0, F32)),
      k8 ? e.countedLoop(k, k8, eightK) : '',
      e.rangeLoop(
        k,
        k8 * K_STEP,
        g.K,
        1,
        [
          set(mv, narrow(quantizeVector(`(v128.load ${get(src)})`, inv))),
          ...Array.from(
            { length: LANES },
            (_, t) => `(v128.store8_lane offset=${t * Kp} ${t} ${get(dst)} ${get(mv)})`,
          ),
          stepSrc,
          stepDst,
        ].join('\n'),
      ),
    ];
    const one = [
      ...start,
      `(i64.store offset=${Kp - K_STEP} ${get(dst)} (i64.const 0))`,
      set(mx, '(f32.const 0)'),
      e.countedLoop(
        k,
        g.K,
        [set(mx, `(f32.max ${get(mx)} (f32.abs (f32.load ${get(src)})))`), stepSrc].join('\n'),
      ),
      `(f32.store (i32.add (i32.const ${actScales}) (i32.shl ${get(j0)} (i32.const 2))) (f32.div ${get(mx)} ${limitF}))`,
      set(invS, `(select (f32.div ${limitF} ${get(mx)}) (f32.const 0) (f32.gt ${get(mx)} (f32.const 0)))`),
      set(src, plus(bBase, j0, F32)),
      e.countedLoop(
        k,
        g.K,
        [`(i32.store8 ${get(dst)} ${quantizeScalar(`(f32.load ${get(src)})`, invS)})`, stepSrc, stepDst].join(
          '\n',
        ),
      ),
    ];
    return [
      e.rangeLoop(j0, 0, n4, LANES, fours.join('\n')),
      e.rangeLoop(j0, n4, g.N, 1, one.join('\n')),
    ].join('\n');
  };

  // P: rows of A; Q: columns of B — each a row of int8 along k, `stride` bytes apart
  const pStride = weightsInA ? g.a.rs : Kp;
  const qStride = weightsInA ? Kp : g.b.cs;

  /** Dequantized, biased, activated output vector of tile row r, columns j0.. (lanes beyond `cols` unused). */
  const epilogue = (r: number, acc: string[]): string => {
    const sum = laneSums([...acc.map(get), ...Array(LANES - acc.length).fill(ZERO)]);
    const rowScale = weightsInA
      ? `(f32.load offset=${r * F32} ${plus(scaleBase, i0, F32)})`
      : `(f32.load offset=${r * F32} (i32.add (i32.const ${actScales}) (i32.shl ${get(i0)} (i32.const 2))))`;
    const colScales = weightsInA
      ? `(v128.load (i32.add (i32.const ${actScales}) (i32.shl ${get(j0)} (i32.const 2))))`
      : `(v128.load ${plus(scaleBase, j0, F32)})`;
    let v = `(f32x4.mul (f32x4.convert_i32x4_s ${sum}) (f32x4.mul (f32x4.splat ${rowScale}) ${colScales}))`;
    if (g.alpha !== 1) v = `(f32x4.mul ${v} (f32x4.splat ${constText('f32', g.alpha)}))`;
    const bias = g.bias;
    if (bias) {
      const at = (c: number) => `offset=${(r * bias.rs + c * bias.cs) * F32} ${get(biasPtr)}`;
      let b: string;
      if (bias.cs === 1) b = `(v128.load ${at(0)})`;
      else if (bias.cs === 0) b = `(f32x4.splat (f32.load ${at(0)}))`;
      else {
        b = `(f32x4.splat (f32.load ${at(0)}))`;
        for (let c = 1; c < LANES; c++) b = `(f32x4.replace_lane ${c} ${b} (f32.load ${at(c)}))`;
      }
      if (g.beta !== 1) b = `(f32x4.mul ${b} (f32x4.splat ${constText('f32', g.beta)}))`;
      v = `(f32x4.add ${v} ${b})`;
    }
    const lanes = vectorLanes(e.program.relaxedSimd);
    v = clampActivation(g.act, v, lanes);
    if (g.act?.op === 'map') v = e.mapped(g.act.value, v, lanes);
    return v;
  };

  const outVec = e.temp('v128', 'out');
  const tile = (rows: number, cols: number): string => {
    const acc = Array.from({ length: rows }, () => Array.from({ length: cols }, () => e.temp('v128', 'acc')));
    const pv = acc.map(() => e.temp('v128', 'p'));
    const qv = e.temp('v128', 'qv');
    const dot = (accLocal: string, p: string): string =>
      `(i32x4.add ${get(accLocal)} (i32x4.dot_i16x8_s ${get(p)} ${get(qv)}))`;
    const kStep = [
      ...pv.map((p, r) =>
        set(p, `(v128.load8x8_${weightsInA ? 's' : sign} offset=${r * pStride} ${get(pp)})`),
      ),
      ...Array.from({ length: cols }, (_, c) => [
        set(qv, `(v128.load8x8_${weightsInA ? sign : 's'} offset=${c * qStride} ${get(qp)})`),
        ...acc.map((row, r) => set(row[c], dot(row[c], pv[r]))),
      ]).flat(),
      set(pp, `(i32.add ${get(pp)} (i32.const ${K_STEP}))`),
      set(qp, `(i32.add ${get(qp)} (i32.const ${K_STEP}))`),
    ];
    const pRow = weightsInA
      ? plus(aBase, i0, g.a.rs)
      : `(i32.add (i32.const ${quant}) (i32.mul ${get(i0)} (i32.const ${Kp})))`;
    const qRow = weightsInA
      ? `(i32.add (i32.const ${quant}) (i32.mul ${get(j0)} (i32.const ${Kp})))`
      : plus(bBase, j0, g.b.cs);
    const stores = acc.map((row, r) => {
      const v = epilogue(r, row);
      if (cols === LANES) return `(v128.store offset=${r * g.c.rs * F32} ${get(cPtr)} ${v})`;
      return [
        set(outVec, v),
        ...row.map(
          (_, c) =>
            `(f32.store offset=${(r * g.c.rs + c) * F32} ${get(cPtr)} (f32x4.extract_lane ${c} ${get(outVec)}))`,
        ),
      ].join('\n');
    });
    return [
      ...acc.flat().map((a) => set(a, ZERO)),
      set(pp, pRow),
      set(qp, qRow),
      e.countedLoop(e.temp('i32', 'kk'), Kp / K_STEP, kStep.join('\n')),
      set(
        cPtr,
        `(i32.add ${get(cBase)} (i32.shl (i32.add (i32.mul ${get(i0)} (i32.const ${g.c.rs})) ${get(j0)}) (i32.const 2)))`,
      ),
      g.bias
        ? set(
            biasPtr,
            `(i32.add ${get(biasBase)} (i32.shl (i32.add (i32.mul ${get(i0)} (i32.const ${g.bias.rs})) (i32.mul ${get(j0)} (i32.const ${g.bias.cs}))) (i32.const 2)))`,
          )
        : '',
      ...stores,
    ]
      .filter(Boolean)
      .join('\n');
  };

  const n4 = Math.floor(g.N / LANES) * LANES;
  const rowBlock = (rows: number): string =>
    [
      e.rangeLoop(j0, 0, n4, LANES, tile(rows, LANES)),
      g.N % LANES ? `${set(j0, `(i32.const ${n4})`)}\n${tile(rows, g.N % LANES)}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  const mFull = Math.floor(g.M / TILE_ROWS) * TILE_ROWS;
  return [
    ...setup,
    weightsInA ? quantizeColumns() : quantizeRows(),
    e.rangeLoop(i0, 0, mFull, TILE_ROWS, rowBlock(TILE_ROWS)),
    e.rangeLoop(i0, mFull, g.M, 1, rowBlock(1)),
  ]
    .filter(Boolean)
    .join('\n');
}
