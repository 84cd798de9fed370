/**
 * f32x4 versions of exp, log, erf and tanh for the vectorizer (vectorize.ts): four lanes at once, branch-free
 * (both sides of a range split are computed and blended with a lane mask, or one rational for erf), a few
 * float32 ulps from the correctly rounded result (4; erf 6) over the whole float range, with IEEE specials: NaN in → NaN out, exp(+inf) = inf,
 * exp(-inf) = 0, log(±0) = -inf,
 * log(x < 0) = NaN, log(+inf) = inf, erf/tanh(±inf) = ±1, erf/tanh(±0) = ±0, and exp's results rounded once into subnormals.
 * The scalar library (f64 musl algorithms) stays the reference for scalar code.
 *
 * Each function exists twice: `$v<name>_f32x4` (SIMD128) and `$v<name>_f32x4_fma`, whose polynomials use
 * f32x4.relaxed_madd (for model.relaxed.wasm; fused or not as the engine chooses, accurate either way).
 * Polynomial coefficients are Kiln's own least-squares fits (scripts in the commit message's spirit: fit in
 * f64, checked in f32 by tests/codegen/vector-math.test.ts).
 */
import { defineHelper } from '../helpers.js';
import { RELAXED_LANES, SIMD128_LANES, type Lanes } from '../lanes.js';

export const VECTOR_MATH = ['exp', 'log', 'erf', 'tanh'] as const;
export type VectorMathOp = (typeof VECTOR_MATH)[number];

/** The helper implementing `op` on f32x4 with the instructions of `lanes` (SIMD128 or relaxed SIMD). */
export const vectorMathHelper = (op: VectorMathOp, lanes: Lanes) => `v${op}_f32x4${lanes.helperSuffix}`;

/**
 * Arguments for which e^x is 2^n·p(r) with 2^n one normal float (n in [-126, 127]): an exp whose argument is
 * clamped into this range by constants (Softmax's e^(x − max), x − max in [-64, 0]) takes the bounded helper,
 * which neither clamps nor splits the scale (about ten instructions of the general one's twenty-five).
 */
export const EXP_BOUNDED = { min: -87, max: 88 } as const;

/** The helper computing e^x for x in EXP_BOUNDED (anything for others), as accurate as the general one. */
export const boundedExpHelper = (lanes: Lanes) => `vexp_bounded_f32x4${lanes.helperSuffix}`;

const splat = (c: number) => {
  const s = Number.isFinite(c) ? String(Math.fround(c)) : c > 0 ? 'inf' : '-inf';
  return `(v128.const f32x4 ${s} ${s} ${s} ${s})`;
};
const get = (name: string) => `(local.get $${name})`;

/**
 * c0 + c1·t + c2·t² + ... as E(t²) + t·O(t²), the even and odd coefficients each by Horner's rule in t2
 * (= t², a local): two independent chains of half the length, so a vector's polynomial waits on half as
 * many dependent multiply-adds (the loops calling these helpers are latency-bound, one vector per
 * iteration).
 */
function evenOdd(t: string, t2: string, coeffs: number[], lanes: Lanes): string {
  const even = horner(
    t2,
    coeffs.filter((_, i) => i % 2 === 0),
    lanes,
  );
  const odd = horner(
    t2,
    coeffs.filter((_, i) => i % 2 === 1),
    lanes,
  );
  return lanes.madd(even, t, odd);
}

/** c0 + t·(c1 + t·(c2 + ...)) on f32x4, by the multiply-adds of `lanes`. */
function horner(t: string, coeffs: number[], lanes: Lanes): string {
  const [c0, ...rest] = coeffs;
  if (!rest.length) return splat(c0);
  return lanes.madd(splat(c0), t, horner(t, rest, lanes));
}

const LOG2E = 1.4426950408889634;
/** 1.5·2^23: adding it rounds to an integer, held in the low mantissa bits */
const MAGIC = 12582912;
// ln 2 split so that n·LN2_HI is exact for the |n| ≤ 150 used here (Cody–Waite reduction)
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;
/** MAGIC + 127: adding it leaves n + 127 (the biased exponent of 2^n) in the low mantissa bits */
const MAGIC_BIASED = MAGIC + 127;
/**
 * e^r on |r| ≤ ln2/2 by a degree-6 polynomial, 1 + r + c2·r² + ... + c6·r⁶: Kiln's own fit minimizing the
 * relative error with c0 = c1 = 1 kept exact (e^0 = 1 exactly; 1 is one constant for both), 3.1e-9 in f64,
 * far below the float32 rounding of its evaluation (1.6e-7, as the degree-7 Taylor polynomial it replaces):
 * one multiply-add and one constant fewer per vector (Softmax's exp loop runs out of x86-64's 16 vector
 * registers, its constants reloaded from the stack).
 */
const EXP_POLY = [
  1, 1, 0.4999999343209892, 0.16666520398846646, 0.041668390789711414, 0.008368745127116214,
  0.0013814539877034402,
];

/**
 * erf(x)/x = P(x²)/Q(x²) on |x| ≤ 3.925 (relative error below 2e-8 in f64; both with positive coefficients,
 * so Q > 0 and Horner's rule is stable): one branch-free rational, no exp, so a GELU epilogue's erf costs
 * the same whichever lanes are big
 */
const ERF_P = [
  1.1283791458710262, 0.1905812986649793, 0.0527673408106807, 0.0037719424008893173, 0.00028481779906023257,
  2.0459618690859955e-6,
];
const ERF_Q = [
  1, 0.5022310116116858, 0.11417729571683659, 0.014981975197528648, 0.0011636886659050706,
  3.804575024762223e-5,
];
/** past 3.925, erf rounds to 1 in float32 */
const ERF_MAX = 3.925;

/** The helper computing GELU, x·(1 + erf(x/√2))/2, on f32x4 (see the vectorizer's geluOperand). */
export const geluHelper = (lanes: Lanes) => `vgelu_f32x4${lanes.helperSuffix}`;
/**
 * GELU through erf's rational at a = |x|/√2 with the scalings folded into its coefficients:
 * erf(a/√2)/2 = a·P(a²)/Q(a²) for P_i = ERF_P_i/(2^i·2√2), Q_i = ERF_Q_i/2^i, on a ≤ ERF_MAX·√2.
 */
const GELU_P = ERF_P.map((c, i) => c / 2 ** i / (2 * Math.SQRT2));
const GELU_Q = ERF_Q.map((c, i) => c / 2 ** i);
const GELU_MAX = ERF_MAX * Math.SQRT2;
/** (tanh(x) − x)/x³ = P(x²) on |x| < 0.625 */
const TANH_SMALL = [
  -0.33333333222087286, 0.13333310877092036, -0.05396093650135987, 0.021782158778810602,
  -0.008386118140432386, 0.0023393279496623414,
];
const TANH_SPLIT = 0.625;
const SIGN = '(v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)';
/** log(1 + f) = f − f²/2 + s·(f²/2 + z·P(z)), s = f/(2 + f), z = s²: musl logf's coefficients (< 1 ulp) */
const LOG_POLY = [0.66666662693, 0.40000972152, 0.28498786688, 0.24279078841];
// ln 2 split so that k·LOG_LN2_HI is exact for the |k| ≤ 149 of float32 exponents
const LOG_LN2_HI = 0.693138122558594;
const LOG_LN2_LO = 9.0580006145e-6;
/** the bits of √½: mantissas are reduced to [√½, √2) so that f = m − 1 is small on both sides of 1 */
const SQRT_HALF_BITS = 0x3f3504f3;
const i32s = (c: number) => `(v128.const i32x4 ${c} ${c} ${c} ${c})`;

for (const lanes of [SIMD128_LANES, RELAXED_LANES]) {
  const exp = vectorMathHelper('exp', lanes);
  // x clamped to [-104, 89] (pmin/pmax with x first keep a NaN x): e^-104 rounds to 0 and e^89 overflows to inf.
  // n = round(x·log2 e) by adding 1.5·2^23 (the sum's low mantissa bits are n, as an integer too: no
  // nearest/trunc_sat, which V8 expands into long sequences on x64), r = x − n·ln2, e^x = p(r)·2^n with 2^n
  // applied as two normal factors 2^(n>>1)·2^(n−n>>1), so results from 2^-150 to 2^128 round once
  // (subnormals included) and overflow to inf.
  defineHelper(
    exp,
    `(func $${exp} (param $x v128) (result v128) (local $n v128) (local $r v128) (local $r2 v128) (local $k v128) (local $h v128)
    (local.set $x (f32x4.pmax (f32x4.pmin ${get('x')} ${splat(89)}) ${splat(-104)}))
    (local.set $k (f32x4.add (f32x4.mul ${get('x')} ${splat(LOG2E)}) ${splat(MAGIC)}))
    (local.set $n (f32x4.sub ${get('k')} ${splat(MAGIC)}))
    (local.set $k (i32x4.sub ${get('k')} ${splat(MAGIC)}))
    (local.set $r (f32x4.sub (f32x4.sub ${get('x')} (f32x4.mul ${get('n')} ${splat(LN2_HI)})) (f32x4.mul ${get('n')} ${splat(LN2_LO)})))
    (local.set $h (i32x4.shr_s ${get('k')} (i32.const 1)))
    (local.set $r2 (f32x4.mul ${get('r')} ${get('r')}))
    (f32x4.mul
      (f32x4.mul ${evenOdd(get('r'), get('r2'), EXP_POLY, lanes)}
        (i32x4.shl (i32x4.add ${get('h')} (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (i32x4.shl (i32x4.add (i32x4.sub ${get('k')} ${get('h')}) (v128.const i32x4 127 127 127 127)) (i32.const 23))))`,
  );

  const bounded = boundedExpHelper(lanes);
  // exp for x in EXP_BOUNDED: k = x·log2 e + MAGIC_BIASED holds n + 127 in [1, 254] in its low bits, so
  // k << 23 is 2^n itself (MAGIC's own bits shift out); r = x − n·ln2 by two multiply-adds (n·LN2_HI is
  // exact, fused or not). A NaN x stays NaN through p(r).
  defineHelper(
    bounded,
    `(func $${bounded} (param $x v128) (result v128) (local $k v128) (local $n v128) (local $r v128) (local $r2 v128)
    (local.set $k ${lanes.mulAdd(get('x'), splat(LOG2E), splat(MAGIC_BIASED))})
    (local.set $n (f32x4.sub ${get('k')} ${splat(MAGIC_BIASED)}))
    (local.set $r ${lanes.nmadd(lanes.nmadd(get('x'), get('n'), splat(LN2_HI)), get('n'), splat(LN2_LO))})
    (local.set $r2 (f32x4.mul ${get('r')} ${get('r')}))
    (f32x4.mul ${evenOdd(get('r'), get('r2'), EXP_POLY, lanes)} (i32x4.shl ${get('k')} (i32.const 23))))`,
  );

  const log = vectorMathHelper('log', lanes);
  // Subnormal x is scaled by 2^23 first (k corrected by 23). x = 2^k·m with m in [√½, √2) from the bits,
  // then musl logf on f = m − 1. Lanes outside (0, inf) take x < 0 → NaN, ±0 → -inf, +inf and NaN → x.
  defineHelper(
    log,
    `(func $${log} (param $x v128) (result v128) (local $i v128) (local $k v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $h v128) (local $m v128)
    (local.set $m (f32x4.lt ${get('x')} ${splat(2 ** -126)}))
    (local.set $i (i32x4.sub (v128.bitselect (f32x4.mul ${get('x')} ${splat(2 ** 23)}) ${get('x')} ${get('m')}) ${i32s(SQRT_HALF_BITS)}))
    (local.set $k (f32x4.sub (f32x4.convert_i32x4_s (i32x4.shr_s ${get('i')} (i32.const 23))) (v128.and ${get('m')} ${splat(23)})))
    (local.set $f (f32x4.sub (i32x4.add (v128.and ${get('i')} ${i32s(0x7fffff)}) ${i32s(SQRT_HALF_BITS)}) ${splat(1)}))
    (local.set $s (f32x4.div ${get('f')} (f32x4.add ${get('f')} ${splat(2)})))
    (local.set $z (f32x4.mul ${get('s')} ${get('s')}))
    (local.set $w (f32x4.mul ${get('z')} ${get('z')}))
    (local.set $h (f32x4.mul (f32x4.mul ${get('f')} ${get('f')}) ${splat(0.5)}))
    (v128.bitselect
      ${lanes.madd(
        `(f32x4.add (f32x4.sub ${lanes.madd(
          `(f32x4.mul ${get('k')} ${splat(LOG_LN2_LO)})`,
          get('s'),
          `(f32x4.add ${get('h')} (f32x4.mul ${get('z')} ${evenOdd(get('z'), get('w'), LOG_POLY, lanes)}))`,
        )} ${get('h')}) ${get('f')})`,
        get('k'),
        splat(LOG_LN2_HI),
      )}
      (v128.bitselect ${splat(-Infinity)} (v128.bitselect ${i32s(0x7fc00000)} ${get('x')} (f32x4.lt ${get('x')} ${splat(0)})) (f32x4.eq ${get('x')} ${splat(0)}))
      (v128.and (f32x4.gt ${get('x')} ${splat(0)}) (f32x4.lt ${get('x')} ${splat(Infinity)}))))`,
  );

  /**
   * sign(x)·(small(|x|) where |x| < split, else big(|x|)): the big side (which calls exp) is only computed
   * when some lane needs it (a NaN lane does), so inputs near 0 (most of GELU's) cost one polynomial.
   */
  const blend = (name: string, split: number, small: string, big: string[]) =>
    `(func $${name} (param $x v128) (result v128) (local $a v128) (local $t v128) (local $t2 v128) (local $b v128) (local $b2 v128) (local $m v128) (local $s v128)
    (local.set $a (f32x4.abs ${get('x')}))
    (local.set $t (f32x4.mul ${get('x')} ${get('x')}))
    (local.set $t2 (f32x4.mul ${get('t')} ${get('t')}))
    (local.set $m (f32x4.lt ${get('a')} ${splat(split)}))
    (local.set $s ${small})
    (if (i32.eqz (i32x4.all_true ${get('m')}))
      (then
        ${big.map((e) => `(local.set $b ${e}) (local.set $b2 (f32x4.mul ${get('b')} ${get('b')}))`).join('\n        ')}
        (local.set $s (v128.bitselect ${get('s')} ${get('b')} ${get('m')}))))
    (v128.or ${get('s')} (v128.and ${get('x')} ${SIGN})))`;

  const erf = vectorMathHelper('erf', lanes);
  // |x|·P(t)/Q(t), t = min(|x|, 3.925)²; the sign is or'ed in (erf(-0) = -0). NaN stays NaN through pmin;
  // ±inf clamps to 3.925, giving ±1.
  defineHelper(
    erf,
    `(func $${erf} (param $x v128) (result v128) (local $a v128) (local $t v128) (local $t2 v128)
    (local.set $a (f32x4.pmin (f32x4.abs ${get('x')}) ${splat(ERF_MAX)}))
    (local.set $t (f32x4.mul ${get('a')} ${get('a')}))
    (local.set $t2 (f32x4.mul ${get('t')} ${get('t')}))
    (v128.or
      (f32x4.mul ${get('a')} (f32x4.div ${evenOdd(get('t'), get('t2'), ERF_P, lanes)} ${evenOdd(get('t'), get('t2'), ERF_Q, lanes)}))
      (v128.and ${get('x')} ${SIGN})))`,
  );

  const gelu = geluHelper(lanes);
  // x/2 + |x|·min(r, 1/2) with r = a·P(t)/Q(t) ≈ erf(a/√2)/2, a = min(|x|, ERF_MAX·√2), t = a²
  // (x·erf(x/√2) is even, so |x|·erf(|x|/√2)): one division where the decomposed form takes two (x/√2 and
  // the rational's), no sign to restore, and no 1 + erf. Past the clamp r is 1/2 exactly (the min: its
  // float32 evaluation there is 1/2 or an ulp above, fused or not), so x ≥ ERF_MAX·√2 gives x and
  // x ≤ −ERF_MAX·√2 gives 0, as 1 + erf(x/√2) rounding to 2 or 0 does. NaN stays NaN through pmin, +inf
  // gives inf and −inf NaN (−inf·0 in the decomposed form); only −0 gives +0.
  defineHelper(
    gelu,
    `(func $${gelu} (param $x v128) (result v128) (local $b v128) (local $a v128) (local $t v128) (local $t2 v128)
    (local.set $b (f32x4.abs ${get('x')}))
    (local.set $a (f32x4.pmin ${get('b')} ${splat(GELU_MAX)}))
    (local.set $t (f32x4.mul ${get('a')} ${get('a')}))
    (local.set $t2 (f32x4.mul ${get('t')} ${get('t')}))
    ${lanes.madd(
      `(f32x4.mul ${get('x')} ${splat(0.5)})`,
      get('b'),
      `(f32x4.pmin (f32x4.div (f32x4.mul ${get('a')} ${evenOdd(get('t'), get('t2'), GELU_P, lanes)}) ${evenOdd(get('t'), get('t2'), GELU_Q, lanes)}) ${splat(0.5)})`,
    )})`,
  );

  const tanh = vectorMathHelper('tanh', lanes);
  // small: |x| + |x|³·P(x²) (no cancellation); big: 1 − 2/(e^2|x| + 1), which is 1 once e^2|x| overflows.
  // NaN fails the |x| < split test and stays NaN through exp.
  defineHelper(
    tanh,
    blend(
      tanh,
      TANH_SPLIT,
      `(f32x4.add ${get('a')} (f32x4.mul (f32x4.mul ${get('a')} ${get('t')}) ${evenOdd(get('t'), get('t2'), TANH_SMALL, lanes)}))`,
      [
        `(call $${exp} (f32x4.add ${get('a')} ${get('a')}))`,
        `(f32x4.sub ${splat(1)} (f32x4.div ${splat(2)} (f32x4.add ${get('b')} ${splat(1)})))`,
      ],
    ),
  );
}
