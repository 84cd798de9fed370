/** exp, expm1, log, log1p, pow and scalbn in f64, transcribed from fdlibm/musl. */
import { defineMath, horner } from './wat.js';

const EXP_P = [
  1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.6533902205465251539e-6,
  4.13813679705723846039e-8,
];
const LG = [
  6.66666666666673513e-1, 3.999999999940941908e-1, 2.857142874366239149e-1, 2.222219843214978396e-1,
  1.818357216161805012e-1, 1.531383769920937332e-1, 1.479819860511658591e-1,
];
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INVLN2 = 1.442695040888963387;

/** R(z) polynomial pieces shared by log and log1p: t1 + t2 with w = z*z. */
const logPoly = `(f64.add
  (f64.mul %w ${horner('%w', [LG[1], LG[3], LG[5]])})
  (f64.mul %z ${horner('%w', [LG[0], LG[2], LG[4], LG[6]])}))`;

// x * 2^n without intermediate overflow or double rounding (musl scalbn)
defineMath(
  'scalbn',
  `(func $scalbn (param $x f64) (param $n i32) (result f64)
    (if (i32.gt_s %n i:1023)
      (then
        (local.set $x (f64.mul %x f:0x1p1023)) (local.set $n (i32.sub %n i:1023))
        (if (i32.gt_s %n i:1023)
          (then (local.set $x (f64.mul %x f:0x1p1023)) (local.set $n (i32.sub %n i:1023))
                (if (i32.gt_s %n i:1023) (then (local.set $n i:1023))))))
      (else (if (i32.lt_s %n i:-1022)
        (then
          (local.set $x (f64.mul %x f:0x1p-969)) (local.set $n (i32.add %n i:969))
          (if (i32.lt_s %n i:-1022)
            (then (local.set $x (f64.mul %x f:0x1p-969)) (local.set $n (i32.add %n i:969))
                  (if (i32.lt_s %n i:-1022) (then (local.set $n i:-1022)))))))))
    (f64.mul %x (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add i:0x3ff %n)) I:52))))`,
);

defineMath(
  'exp_f64',
  `(func $exp_f64 (param $x f64) (result f64)
    (local $hx i32) (local $sign i32) (local $k i32) (local $hi f64) (local $lo f64) (local $xx f64) (local $c f64) (local $y f64)
    (local.set $hx (call $hi %x))
    (local.set $sign (i32.shr_u %hx i:31))
    (local.set $hx (i32.and %hx i:0x7fffffff))
    (if (i32.ge_u %hx i:0x4086232b)
      (then
        (if (f64.ne %x %x) (then (return %x)))
        (if (f64.gt %x f:709.782712893383973096) (then (return (f64.mul %x f:0x1p1023))))
        (if (f64.lt %x f:-745.13321910194110842) (then (return f:0)))))
    (if (i32.gt_u %hx i:0x3fd62e42)
      (then
        (if (i32.ge_u %hx i:0x3ff0a2b2)
          (then (local.set $k (i32.trunc_sat_f64_s (f64.add (f64.mul f:${INVLN2} %x)
                   (select f:-0.5 f:0.5 %sign)))))
          (else (local.set $k (i32.sub (i32.sub i:1 %sign) %sign))))
        (local.set $hi (f64.sub %x (f64.mul (f64.convert_i32_s %k) f:${LN2_HI})))
        (local.set $lo (f64.mul (f64.convert_i32_s %k) f:${LN2_LO}))
        (local.set $x (f64.sub %hi %lo)))
      (else
        (if (i32.gt_u %hx i:0x3e300000)
          (then (local.set $k i:0) (local.set $hi %x) (local.set $lo f:0))
          (else (return (f64.add f:1 %x))))))
    (local.set $xx (f64.mul %x %x))
    (local.set $c (f64.sub %x (f64.mul %xx ${horner('%xx', EXP_P)})))
    (local.set $y (f64.add f:1 (f64.add (f64.sub (f64.div (f64.mul %x %c) (f64.sub f:2 %c)) %lo) %hi)))
    (if (result f64) (i32.eqz %k) (then %y) (else (call $scalbn %y %k))))`,
);

const EXPM1_Q = [
  -3.33333333333331316428e-2, 1.58730158725481460165e-3, -7.93650757867487942473e-5,
  4.00821782732936239552e-6, -2.01099218183624371326e-7,
];

defineMath(
  'expm1_f64',
  `(func $expm1_f64 (param $x f64) (result f64)
    (local $hx i32) (local $sign i32) (local $k i32) (local $hi f64) (local $lo f64) (local $c f64) (local $t f64)
    (local $e f64) (local $hxs f64) (local $hfx f64) (local $r1 f64) (local $y f64) (local $twopk f64)
    (local.set $hx (i32.and (call $hi %x) i:0x7fffffff))
    (local.set $sign (i32.shr_u (call $hi %x) i:31))
    (if (i32.ge_u %hx i:0x4043687a)
      (then
        (if (f64.ne %x %x) (then (return %x)))
        (if %sign (then (return f:-1)))
        (if (f64.gt %x f:7.09782712893383973096e+02) (then (return (f64.mul %x f:0x1p1023))))))
    (if (i32.gt_u %hx i:0x3fd62e42)
      (then
        (if (i32.lt_u %hx i:0x3ff0a2b2)
          (then (if %sign
            (then (local.set $hi (f64.add %x f:${LN2_HI})) (local.set $lo f:-${LN2_LO}) (local.set $k i:-1))
            (else (local.set $hi (f64.sub %x f:${LN2_HI})) (local.set $lo f:${LN2_LO}) (local.set $k i:1))))
          (else
            (local.set $k (i32.trunc_sat_f64_s (f64.add (f64.mul f:${INVLN2} %x) (select f:-0.5 f:0.5 %sign))))
            (local.set $t (f64.convert_i32_s %k))
            (local.set $hi (f64.sub %x (f64.mul %t f:${LN2_HI})))
            (local.set $lo (f64.mul %t f:${LN2_LO}))))
        (local.set $x (f64.sub %hi %lo))
        (local.set $c (f64.sub (f64.sub %hi %x) %lo)))
      (else
        (if (i32.lt_u %hx i:0x3c900000) (then (return %x)))
        (local.set $k i:0)))
    (local.set $hfx (f64.mul f:0.5 %x))
    (local.set $hxs (f64.mul %x %hfx))
    (local.set $r1 (f64.add f:1 (f64.mul %hxs ${horner('%hxs', EXPM1_Q)})))
    (local.set $t (f64.sub f:3 (f64.mul %r1 %hfx)))
    (local.set $e (f64.mul %hxs (f64.div (f64.sub %r1 %t) (f64.sub f:6 (f64.mul %x %t)))))
    (if (i32.eqz %k) (then (return (f64.sub %x (f64.sub (f64.mul %x %e) %hxs)))))
    (local.set $e (f64.sub (f64.sub (f64.mul %x (f64.sub %e %c)) %c) %hxs))
    (if (i32.eq %k i:-1) (then (return (f64.sub (f64.mul f:0.5 (f64.sub %x %e)) f:0.5))))
    (if (i32.eq %k i:1)
      (then
        (if (f64.lt %x f:-0.25) (then (return (f64.mul f:-2 (f64.sub %e (f64.add %x f:0.5))))))
        (return (f64.add f:1 (f64.mul f:2 (f64.sub %x %e))))))
    (local.set $twopk (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add i:0x3ff %k)) I:52)))
    (if (i32.or (i32.lt_s %k i:0) (i32.gt_s %k i:56))
      (then
        (local.set $y (f64.add (f64.sub %x %e) f:1))
        (local.set $y (if (result f64) (i32.eq %k i:1024)
          (then (f64.mul (f64.mul %y f:2) f:0x1p1023)) (else (f64.mul %y %twopk))))
        (return (f64.sub %y f:1))))
    (local.set $t (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.sub i:0x3ff %k)) I:52)))
    (if (result f64) (i32.lt_s %k i:20)
      (then (f64.mul (f64.add (f64.sub %x %e) (f64.sub f:1 %t)) %twopk))
      (else (f64.mul (f64.add (f64.sub %x (f64.add %e %t)) f:1) %twopk))))`,
);

defineMath(
  'log_f64',
  `(func $log_f64 (param $x f64) (result f64)
    (local $hx i32) (local $k i32) (local $f f64) (local $hfsq f64) (local $s f64) (local $z f64) (local $w f64) (local $dk f64)
    (local.set $hx (call $hi %x))
    (if (i32.or (i32.lt_u %hx i:0x00100000) (i32.shr_u %hx i:31))
      (then
        (if (f64.eq %x f:0) (then (return f:-inf)))
        (if (i32.shr_u %hx i:31) (then (return f:nan)))
        (local.set $k i:-54)
        (local.set $x (f64.mul %x f:0x1p54))
        (local.set $hx (call $hi %x)))
      (else
        (if (i32.ge_u %hx i:0x7ff00000) (then (return %x)))
        (if (f64.eq %x f:1) (then (return f:0)))))
    (local.set $hx (i32.add %hx (i32.const ${0x3ff00000 - 0x3fe6a09e})))
    (local.set $k (i32.add %k (i32.sub (i32.shr_u %hx i:20) i:0x3ff)))
    (local.set $hx (i32.add (i32.and %hx i:0x000fffff) i:0x3fe6a09e))
    (local.set $x (call $with_hi %x %hx))
    (local.set $f (f64.sub %x f:1))
    (local.set $hfsq (f64.mul (f64.mul f:0.5 %f) %f))
    (local.set $s (f64.div %f (f64.add f:2 %f)))
    (local.set $z (f64.mul %s %s))
    (local.set $w (f64.mul %z %z))
    (local.set $dk (f64.convert_i32_s %k))
    (f64.add (f64.add (f64.sub (f64.add (f64.mul %s (f64.add %hfsq ${logPoly})) (f64.mul %dk f:${LN2_LO})) %hfsq) %f)
             (f64.mul %dk f:${LN2_HI})))`,
);

defineMath(
  'log1p_f64',
  `(func $log1p_f64 (param $x f64) (result f64)
    (local $hx i32) (local $hu i32) (local $k i32) (local $u f64) (local $c f64) (local $f f64) (local $hfsq f64)
    (local $s f64) (local $z f64) (local $w f64) (local $dk f64)
    (local.set $hx (call $hi %x))
    (local.set $k i:1)
    (if (i32.or (i32.lt_u %hx i:0x3fda827a) (i32.shr_u %hx i:31))
      (then
        (if (i32.ge_u %hx i:0xbff00000)
          (then (if (f64.eq %x f:-1) (then (return f:-inf))) (return f:nan)))
        (if (i32.lt_u (i32.shl %hx i:1) (i32.const ${0x3ca00000 * 2})) (then (return %x)))
        (if (i32.le_u %hx i:0xbfd2bec4) (then (local.set $k i:0) (local.set $c f:0) (local.set $f %x))))
      (else (if (i32.ge_u %hx i:0x7ff00000) (then (return %x)))))
    (if %k
      (then
        (local.set $u (f64.add f:1 %x))
        (local.set $hu (i32.add (call $hi %u) (i32.const ${0x3ff00000 - 0x3fe6a09e})))
        (local.set $k (i32.sub (i32.shr_u %hu i:20) i:0x3ff))
        (if (i32.lt_s %k i:54)
          (then (local.set $c (f64.div
            (if (result f64) (i32.ge_s %k i:2) (then (f64.sub f:1 (f64.sub %u %x))) (else (f64.sub %x (f64.sub %u f:1))))
            %u)))
          (else (local.set $c f:0)))
        (local.set $hu (i32.add (i32.and %hu i:0x000fffff) i:0x3fe6a09e))
        (local.set $f (f64.sub (call $with_hi %u %hu) f:1))))
    (local.set $hfsq (f64.mul (f64.mul f:0.5 %f) %f))
    (local.set $s (f64.div %f (f64.add f:2 %f)))
    (local.set $z (f64.mul %s %s))
    (local.set $w (f64.mul %z %z))
    (local.set $dk (f64.convert_i32_s %k))
    (f64.add (f64.add (f64.sub (f64.add (f64.mul %s (f64.add %hfsq ${logPoly})) (f64.add (f64.mul %dk f:${LN2_LO}) %c)) %hfsq) %f)
             (f64.mul %dk f:${LN2_HI})))`,
);
