/**
 * The discrete Fourier transform as Kernel IR, shared by DFT and STFT: X[k] = Σ_n w[n]·x[n]·e^(∓2πi·kn/L)
 * (÷L for the inverse). Sums run in f64 over a table of L twiddles; the table index k·n mod L is kept
 * as a running sum, so no product can overflow i32 and every angle is exact.
 */
import type { BufRef, Expr, Extent, Kernel, Scalar, Stmt } from '../../kernels/ir.js';
import { extentF64, extentI32 } from '../../kernels/extent.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cast,
  cmp,
  div,
  f64,
  i32,
  load,
  local,
  loop,
  mul,
  set,
  store,
  sub,
  un,
  v,
  when,
} from '../../kernels/build.js';

export interface DftSpec {
  name: string;
  /** loops around each transform, outermost first; their vars are visible to `input`/`output` */
  outer: { v: string; n: Extent }[];
  /** transform length L (STFT's may be read at run time) */
  length: Extent;
  /** samples read per transform (≤ L; the rest is zero padding) */
  samples: Extent;
  /** output bins 0..bins-1 */
  bins: Extent;
  inverse: boolean;
  x: BufRef;
  /** element index of sample n's real part; the imaginary part follows when `complex` */
  input: (n: Expr) => Expr;
  complex: boolean;
  /** optional weight per sample n (STFT's window) */
  window?: BufRef;
  y: BufRef;
  /** element index of bin k's real part; the imaginary part follows */
  output: (k: Expr) => Expr;
  /** float64 scratch of 2·L elements (at L's bound) for the twiddle table */
  twiddles: BufRef;
}

export function dftKernel(s: DftSpec): Kernel {
  const L = s.length;
  const j = v('j');
  const angle = div(mul(f64(2 * Math.PI), cast('f64', j)), extentF64(L));
  const table: Stmt[] = [
    loop('j', L, [
      store(s.twiddles, mul(j, i32(2)), un('cos', angle)),
      store(s.twiddles, add(mul(j, i32(2)), i32(1)), un('sin', angle)),
    ]),
  ];
  const n = v('n');
  const at = v('at');
  const weight = (e: Expr): Expr => (s.window ? mul(e, cast('f64', load(s.window, n))) : e);
  const xr = weight(cast('f64', load(s.x, s.input(n))));
  const xi = s.complex ? weight(cast('f64', load(s.x, add(s.input(n), i32(1))))) : undefined;
  const c = load(s.twiddles, mul(at, i32(2)));
  const sn = load(s.twiddles, add(mul(at, i32(2)), i32(1)));
  const [re, im] = [v('re', 'f64'), v('im', 'f64')];
  // forward multiplies by cos − i·sin, inverse by cos + i·sin
  const sign = s.inverse ? -1 : 1;
  let dRe = mul(xr, c);
  let dIm = mul(f64(-sign), mul(xr, sn));
  if (xi) {
    dRe = add(dRe, mul(f64(sign), mul(xi, sn)));
    dIm = add(dIm, mul(xi, c));
  }
  const t: Scalar = scalarOf(s.y.dtype);
  const scale = (e: Expr): Expr => cast(t, s.inverse ? div(e, extentF64(L)) : e);
  const k = v('k');
  const perBin: Stmt[] = [
    set('re', f64(0)),
    set('im', f64(0)),
    set('at', i32(0)),
    loop('n', s.samples, [
      set('re', add(re, dRe)),
      set('im', add(im, dIm)),
      set('at', add(at, k)),
      when(cmp('ge', at, extentI32(L)), [set('at', sub(at, extentI32(L)))]),
    ]),
    store(s.y, s.output(k), scale(re)),
    store(s.y, add(s.output(k), i32(1)), scale(im)),
  ];
  const body = s.outer.reduceRight<Stmt[]>(
    (inner, l) => [loop(l.v, l.n, inner)],
    [loop('k', s.bins, perBin)],
  );
  return {
    name: s.name,
    body: [
      local('re', 'f64', f64(0)),
      local('im', 'f64', f64(0)),
      local('at', 'i32', i32(0)),
      ...(typeof L === 'number' && L <= 0 ? [] : table),
      ...body,
    ],
  };
}
