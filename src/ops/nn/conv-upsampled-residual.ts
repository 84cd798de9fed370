/**
 * A 1×1 stride-1 Conv whose residual is a coarser map upsampled by nearest whole factors kh×kw (an FPN's
 * top-down path, conv(lateral) + Resize ×2 (coarser level), folded by passes/fuse-residual.ts): Y[m, y, x]
 * = act(Σ_c W[m, c]·X[c, y, x] + B[m] + R[m, ⌊y / kh⌋, ⌊x / kw⌋]).
 *
 * The Resize's full-size output is never written nor read: band by band of whole output rows (kh·j rows for
 * j coarse rows, about BAND_BYTES of output, so it is still in cache), a loop first writes each coarse
 * element into its kh×kw block of the band, then the gemm reads the band back as its residual (C itself, as
 * a K-blocked gemm's later blocks do) and stores the sum with the bias and the activation in its vectorized
 * epilogue. The block loop stores kw elements of a coarse one at kw·x + c and reads nothing it stores, which
 * the wasm loop vectorizer renders as f32x4 loads and shuffles for kw = 2 and 4 (and 8); adding the coarse
 * map after the gemm instead read and wrote the band in place, which it leaves scalar (1.6 ms for DBNet's
 * Conv_168, 0.57× the plain 1×1 conv's rate). DBNet's FPN read and wrote 4.9 MB of upsampled map per level
 * at 160² before the fold. Each output element is (Σ + bias) + coarse, as the unfused Conv and Add.
 */
import { sizeOf } from '../../ir/tensor.js';
import type { Activation, BufRef, Stmt } from '../../kernels/ir.js';
import { add, i32, load, local, loop, mul, store, v } from '../../kernels/build.js';
import { gemm, view } from './gemm-helpers.js';
import type { ConvGeometry } from './conv-geometry.js';

/** About this many bytes of output per band: within L1/L2 between the gemm's stores and the residual pass. */
const BAND_BYTES = 64 << 10;

/** Whether the conv takes this lowering: 2-D, 1×1, stride 1, unpadded, one group. */
export function upsampledResidualFits(g: ConvGeometry): boolean {
  const w = g.window;
  return (
    w.kernel.length === 2 &&
    g.group === 1 &&
    w.kernel.every((k) => k === 1) &&
    w.strides.every((s) => s === 1) &&
    [...w.padBegin, ...w.padEnd].every((p) => p === 0)
  );
}

/** Coarse rows per band: the most that divide the coarse height with the band within BAND_BYTES, at least 1. */
function bandCoarseRows(M: number, coarseH: number, kh: number, W: number): number {
  let rows = 1;
  for (let j = 2; j <= coarseH; j++) if (coarseH % j === 0 && M * j * kh * W * 4 <= BAND_BYTES) rows = j;
  return rows;
}

export function upsampledResidualLowering(
  g: ConvGeometry,
  X: BufRef,
  W: BufRef,
  B: BufRef | undefined,
  R: BufRef,
  Y: BufRef,
  [kh, kw]: number[],
  act: Activation | undefined,
): Stmt[] {
  const { N, C, M } = g;
  const [H, Wd] = g.window.out;
  const [Hc, Wc] = [H / kh, Wd / kw];
  const outS = sizeOf(g.window.out);
  const j = bandCoarseRows(M, Hc, kh, Wd);
  const cols = j * kh * Wd;
  const [n, b, m, q, r, x] = [v('n'), v('band'), v('m'), v('q'), v('r'), v('x')];
  const bias = B ? view(B, i32(0), 1, 0) : undefined;
  const band = view(Y, add(mul(n, i32(M * outS)), mul(b, i32(cols))), outS, 1);
  const product = gemm(
    M,
    cols,
    C,
    view(W, i32(0), C, 1),
    view(X, add(mul(n, i32(C * outS)), mul(b, i32(cols))), outS, 1),
    band,
    { bias },
  );
  product.residual = band;
  if (act) product.act = act;
  // output row q·kh + r of the band, channel m: element kw·x + c is coarse element x of row q
  const coarse = load(R, add(v('rrow'), x));
  const blockRow = Array.from({ length: kw }, (_, c) =>
    store(Y, add(add(v('yrow'), mul(x, i32(kw))), i32(c)), coarse),
  );
  const blocks = loop('m', M, [
    loop('q', j, [
      local(
        'rrow',
        'i32',
        add(mul(add(mul(n, i32(M)), m), i32(Hc * Wc)), mul(add(mul(b, i32(j)), q), i32(Wc))),
      ),
      loop('r', kh, [
        local(
          'yrow',
          'i32',
          add(
            add(mul(add(mul(n, i32(M)), m), i32(outS)), mul(b, i32(cols))),
            mul(add(mul(q, i32(kh)), r), i32(Wd)),
          ),
        ),
        loop('x', Wc, blockRow),
      ]),
    ]),
  ]);
  return [loop('n', N, [loop('band', Hc / j, [blocks, product])])];
}
