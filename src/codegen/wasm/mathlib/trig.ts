/**
 * sin, cos, tan, asin, acos, atan, atan2 in f64, transcribed from fdlibm/musl. Argument reduction is
 * fdlibm's medium-size Cody–Waite reduction (three rounds, exact for |x| < 2^20·π/2), and Payne–Hanek
 * (rem-pio2-large.ts) beyond.
 */
import { defineMath, horner } from './wat.js';

const S = [
  -1.66666666666666324348e-1, 8.33333333332248946124e-3, -1.98412698298579493134e-4,
  2.75573137070700676789e-6, -2.50507602534068634195e-8, 1.58969099521155010221e-10,
];
const C = [
  4.16666666666666019037e-2, -1.38888888888741095749e-3, 2.48015872894767294178e-5,
  -2.75573143513906633035e-7, 2.0875723212981748279e-9, -1.13596475577881948265e-11,
];
const T = [
  3.33333333333334091986e-1, 1.33333333333201242699e-1, 5.39682539762260521377e-2, 2.18694882948595424599e-2,
  8.86323982359930005737e-3, 3.59207910759131235356e-3, 1.45620945432529025516e-3, 5.88041240820264096874e-4,
  2.46463134818469906812e-4, 7.817944429395570923e-5, 7.14072491382608190305e-5, -1.85586374855275456654e-5,
  2.59073051863633712884e-5,
];
const PIO4 = 7.85398163397448278999e-1;
const PIO4_LO = 3.06161699786838301793e-17;
const PIO2_HI = 1.570796326794896558;
const PIO2_LO = 6.12323399573676603587e-17;
const PI = 3.141592653589793116;
const PI_LO = 1.2246467991473531772e-16;

// kernel sin on [-π/4, π/4]: x + y is the reduced argument in two parts
defineMath(
  'k_sin',
  `(func $k_sin (param $x f64) (param $y f64) (result f64) (local $z f64) (local $w f64) (local $r f64) (local $v f64)
    (local.set $z (f64.mul %x %x))
    (local.set $w (f64.mul %z %z))
    (local.set $r (f64.add ${horner('%z', [S[1], S[2], S[3]])} (f64.mul (f64.mul %z %w) ${horner('%z', [S[4], S[5]])})))
    (local.set $v (f64.mul %z %x))
    (f64.sub %x (f64.sub (f64.sub (f64.mul %z (f64.sub (f64.mul f:0.5 %y) (f64.mul %v %r))) %y) (f64.mul %v f:${S[0]}))))`,
);

defineMath(
  'k_cos',
  `(func $k_cos (param $x f64) (param $y f64) (result f64) (local $z f64) (local $w f64) (local $r f64) (local $hz f64)
    (local.set $z (f64.mul %x %x))
    (local.set $w (f64.mul %z %z))
    (local.set $r (f64.add (f64.mul %z ${horner('%z', [C[0], C[1], C[2]])})
                           (f64.mul (f64.mul %w %w) ${horner('%z', [C[3], C[4], C[5]])})))
    (local.set $hz (f64.mul f:0.5 %z))
    (local.set $w (f64.sub f:1 %hz))
    (f64.add %w (f64.add (f64.sub (f64.sub f:1 %w) %hz) (f64.sub (f64.mul %z %r) (f64.mul %x %y)))))`,
);

defineMath(
  'k_tan',
  `(func $k_tan (param $x f64) (param $y f64) (param $odd i32) (result f64)
    (local $z f64) (local $r f64) (local $v f64) (local $w f64) (local $s f64) (local $a f64) (local $w0 f64) (local $a0 f64)
    (local $big i32) (local $sign i32)
    (local.set $big (i32.ge_u (i32.and (call $hi %x) i:0x7fffffff) i:0x3fe59428))
    (if %big
      (then
        (local.set $sign (i32.shr_u (call $hi %x) i:31))
        (if %sign (then (local.set $x (f64.neg %x)) (local.set $y (f64.neg %y))))
        (local.set $x (f64.add (f64.sub f:${PIO4} %x) (f64.sub f:${PIO4_LO} %y)))
        (local.set $y f:0)))
    (local.set $z (f64.mul %x %x))
    (local.set $w (f64.mul %z %z))
    (local.set $r ${horner('%w', [T[1], T[3], T[5], T[7], T[9], T[11]])})
    (local.set $v (f64.mul %z ${horner('%w', [T[2], T[4], T[6], T[8], T[10], T[12]])}))
    (local.set $s (f64.mul %z %x))
    (local.set $r (f64.add (f64.add %y (f64.mul %z (f64.add (f64.mul %s (f64.add %r %v)) %y))) (f64.mul %s f:${T[0]})))
    (local.set $w (f64.add %x %r))
    (if %big
      (then
        (local.set $s (f64.convert_i32_s (i32.sub i:1 (i32.shl %odd i:1))))
        (local.set $v (f64.sub %s (f64.mul f:2 (f64.add %x (f64.sub %r (f64.div (f64.mul %w %w) (f64.add %w %s)))))))
        (return (select (f64.neg %v) %v %sign))))
    (if (i32.eqz %odd) (then (return %w)))
    ;; -1/(x + r) computed accurately
    (local.set $w0 (call $clear_lo %w))
    (local.set $v (f64.sub %r (f64.sub %w0 %x)))
    (local.set $a (f64.div f:-1 %w))
    (local.set $a0 (call $clear_lo %a))
    (f64.add %a0 (f64.mul %a (f64.add (f64.add f:1 (f64.mul %a0 %w0)) (f64.mul %a0 %v)))))`,
);

// x = n·π/2 + (rem_hi + rem_lo); returns n, leaves the remainder in two globals
defineMath(
  'rem_pio2',
  `(global $rem_hi (mut f64) (f64.const 0))
  (global $rem_lo (mut f64) (f64.const 0))
  (func $rem_pio2 (param $x f64) (result i32) (local $fn f64) (local $r f64) (local $w f64) (local $t f64) (local $y0 f64)
    (local $ex i32) (local $ey i32)
    (if (i32.ge_u (i32.and (call $hi %x) i:0x7fffffff) i:0x413921fb) (then (return (call $rem_pio2_large %x))))
    (local.set $fn (f64.nearest (f64.mul %x f:6.36619772367581382433e-01)))
    (local.set $r (f64.sub %x (f64.mul %fn f:1.57079632673412561417e+00)))
    (local.set $w (f64.mul %fn f:6.07710050650619224932e-11))
    (local.set $y0 (f64.sub %r %w))
    (local.set $ex (i32.and (i32.shr_u (call $hi %x) i:20) i:0x7ff))
    (local.set $ey (i32.and (i32.shr_u (call $hi %y0) i:20) i:0x7ff))
    (if (i32.gt_s (i32.sub %ex %ey) i:16)
      (then
        (local.set $t %r)
        (local.set $w (f64.mul %fn f:6.07710050630396597660e-11))
        (local.set $r (f64.sub %t %w))
        (local.set $w (f64.sub (f64.mul %fn f:2.02226624879595063154e-21) (f64.sub (f64.sub %t %r) %w)))
        (local.set $y0 (f64.sub %r %w))
        (local.set $ey (i32.and (i32.shr_u (call $hi %y0) i:20) i:0x7ff))
        (if (i32.gt_s (i32.sub %ex %ey) i:49)
          (then
            (local.set $t %r)
            (local.set $w (f64.mul %fn f:2.02226624871116645580e-21))
            (local.set $r (f64.sub %t %w))
            (local.set $w (f64.sub (f64.mul %fn f:8.47842766036889956997e-32) (f64.sub (f64.sub %t %r) %w)))
            (local.set $y0 (f64.sub %r %w))))))
    (global.set $rem_hi %y0)
    (global.set $rem_lo (f64.sub (f64.sub %r %y0) %w))
    (i32.trunc_sat_f64_s %fn))`,
);

/** sin/cos/tan share the shape: small |x| fast path, inf/nan → nan, else reduce and pick by quadrant. */
function trig(name: string, tiny: number, small: string, tinyValue: string, quadrant: string): void {
  defineMath(
    `${name}_f64`,
    `(func $${name}_f64 (param $x f64) (result f64) (local $ix i32) (local $n i32) (local $a f64) (local $b f64)
      (local.set $ix (i32.and (call $hi %x) i:0x7fffffff))
      (if (i32.le_u %ix i:0x3fe921fb)
        (then (if (i32.lt_u %ix i:${tiny}) (then (return ${tinyValue}))) (return ${small})))
      (if (i32.ge_u %ix i:0x7ff00000) (then (return (f64.sub %x %x))))
      (local.set $n (i32.and (call $rem_pio2 %x) i:3))
      (local.set $a (global.get $rem_hi))
      (local.set $b (global.get $rem_lo))
      ${quadrant})`,
  );
}

const SIN = '(call $k_sin %a %b)';
const COS = '(call $k_cos %a %b)';
const byQuadrant = (q: string[]) =>
  `(if (result f64) (i32.lt_u %n i:2)
    (then (if (result f64) %n (then ${q[1]}) (else ${q[0]})))
    (else (if (result f64) (i32.eq %n i:2) (then ${q[2]}) (else ${q[3]}))))`;

trig(
  'sin',
  0x3e500000,
  '(call $k_sin %x f:0)',
  '%x',
  byQuadrant([SIN, COS, `(f64.neg ${SIN})`, `(f64.neg ${COS})`]),
);
trig(
  'cos',
  0x3e46a09e,
  '(call $k_cos %x f:0)',
  'f:1',
  byQuadrant([COS, `(f64.neg ${SIN})`, `(f64.neg ${COS})`, SIN]),
);
trig('tan', 0x3e400000, '(call $k_tan %x f:0 i:0)', '%x', '(call $k_tan %a %b (i32.and %n i:1))');

const PS = [
  1.66666666666666657415e-1, -3.25565818622400915405e-1, 2.01212532134862925881e-1,
  -4.00555345006794114027e-2, 7.91534994289814532176e-4, 3.4793310759602116757e-5,
];
const QS = [
  1, -2.40339491173441421878, 2.02094576023350569471, -6.8828397160545329303e-1, 7.70381505559019352791e-2,
];

// rational approximation used by asin and acos
defineMath(
  'asin_r',
  `(func $asin_r (param $z f64) (result f64)
    (f64.div (f64.mul %z ${horner('%z', PS)}) ${horner('%z', QS)}))`,
);

defineMath(
  'asin_f64',
  `(func $asin_f64 (param $x f64) (result f64) (local $hx i32) (local $ix i32) (local $z f64) (local $s f64) (local $r f64)
    (local $f f64) (local $c f64)
    (local.set $hx (call $hi %x))
    (local.set $ix (i32.and %hx i:0x7fffffff))
    (if (i32.ge_u %ix i:0x3ff00000)
      (then
        (if (i32.eqz (i32.or (i32.sub %ix i:0x3ff00000) (call $lo %x))) (then (return (f64.mul %x f:${PIO2_HI}))))
        (return f:nan)))
    (if (i32.lt_u %ix i:0x3fe00000)
      (then
        (if (i32.and (i32.lt_u %ix i:0x3e500000) (i32.ge_u %ix i:0x00100000)) (then (return %x)))
        (return (f64.add %x (f64.mul %x (call $asin_r (f64.mul %x %x)))))))
    (local.set $z (f64.mul (f64.sub f:1 (f64.abs %x)) f:0.5))
    (local.set $s (f64.sqrt %z))
    (local.set $r (call $asin_r %z))
    (if (i32.ge_u %ix i:0x3fef3333)
      (then (local.set $x (f64.sub f:${PIO2_HI} (f64.sub (f64.mul f:2 (f64.add %s (f64.mul %s %r))) f:${PIO2_LO}))))
      (else
        (local.set $f (call $clear_lo %s))
        (local.set $c (f64.div (f64.sub %z (f64.mul %f %f)) (f64.add %s %f)))
        (local.set $x (f64.sub (f64.mul f:0.5 f:${PIO2_HI})
          (f64.sub (f64.sub (f64.mul (f64.mul f:2 %s) %r) (f64.sub f:${PIO2_LO} (f64.mul f:2 %c)))
                   (f64.sub (f64.mul f:0.5 f:${PIO2_HI}) (f64.mul f:2 %f)))))))
    (select (f64.neg %x) %x (i32.shr_u %hx i:31)))`,
);

defineMath(
  'acos_f64',
  `(func $acos_f64 (param $x f64) (result f64) (local $hx i32) (local $ix i32) (local $z f64) (local $s f64) (local $w f64)
    (local $df f64) (local $c f64)
    (local.set $hx (call $hi %x))
    (local.set $ix (i32.and %hx i:0x7fffffff))
    (if (i32.ge_u %ix i:0x3ff00000)
      (then
        (if (i32.eqz (i32.or (i32.sub %ix i:0x3ff00000) (call $lo %x)))
          (then (return (select f:${2 * PIO2_HI} f:0 (i32.shr_u %hx i:31)))))
        (return f:nan)))
    (if (i32.lt_u %ix i:0x3fe00000)
      (then
        (if (i32.le_u %ix i:0x3c600000) (then (return f:${PIO2_HI})))
        (return (f64.sub f:${PIO2_HI} (f64.sub %x (f64.sub f:${PIO2_LO} (f64.mul %x (call $asin_r (f64.mul %x %x)))))))))
    (if (i32.shr_u %hx i:31)
      (then
        (local.set $z (f64.mul (f64.add f:1 %x) f:0.5))
        (local.set $s (f64.sqrt %z))
        (local.set $w (f64.sub (f64.mul (call $asin_r %z) %s) f:${PIO2_LO}))
        (return (f64.mul f:2 (f64.sub f:${PIO2_HI} (f64.add %s %w))))))
    (local.set $z (f64.mul (f64.sub f:1 %x) f:0.5))
    (local.set $s (f64.sqrt %z))
    (local.set $df (call $clear_lo %s))
    (local.set $c (f64.div (f64.sub %z (f64.mul %df %df)) (f64.add %s %df)))
    (local.set $w (f64.add (f64.mul (call $asin_r %z) %s) %c))
    (f64.mul f:2 (f64.add %df %w)))`,
);

const AT = [
  3.33333333333329318027e-1, -1.99999999998764832476e-1, 1.42857142725034663711e-1, -1.1111110405462355788e-1,
  9.09088713343650656196e-2, -7.69187620504482999495e-2, 6.66107313738753120669e-2,
  -5.83357013379057348645e-2, 4.97687799461593236017e-2, -3.6531572744216915527e-2, 1.62858201153657823623e-2,
];
const ATAN_HI = [4.63647609000806093515e-1, 7.85398163397448278999e-1, 9.82793723247329054082e-1, PIO2_HI];
const ATAN_LO = [2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17, PIO2_LO];

defineMath(
  'atan_f64',
  `(func $atan_f64 (param $x f64) (result f64) (local $ix i32) (local $sign i32) (local $id i32)
    (local $z f64) (local $w f64) (local $s f64) (local $hi f64) (local $lo f64)
    (local.set $ix (call $hi %x))
    (local.set $sign (i32.shr_u %ix i:31))
    (local.set $ix (i32.and %ix i:0x7fffffff))
    (if (i32.ge_u %ix i:0x44100000)
      (then
        (if (f64.ne %x %x) (then (return %x)))
        (return (select f:-${PIO2_HI} f:${PIO2_HI} %sign))))
    (local.set $id i:-1)
    (if (i32.lt_u %ix i:0x3fdc0000)
      (then (if (i32.lt_u %ix i:0x3e400000) (then (return %x))))
      (else
        (local.set $x (f64.abs %x))
        (if (i32.lt_u %ix i:0x3ff30000)
          (then (if (i32.lt_u %ix i:0x3fe60000)
            (then (local.set $id i:0) (local.set $x (f64.div (f64.sub (f64.mul f:2 %x) f:1) (f64.add f:2 %x))))
            (else (local.set $id i:1) (local.set $x (f64.div (f64.sub %x f:1) (f64.add %x f:1))))))
          (else (if (i32.lt_u %ix i:0x40038000)
            (then (local.set $id i:2) (local.set $x (f64.div (f64.sub %x f:1.5) (f64.add f:1 (f64.mul f:1.5 %x)))))
            (else (local.set $id i:3) (local.set $x (f64.div f:-1 %x))))))))
    (local.set $z (f64.mul %x %x))
    (local.set $w (f64.mul %z %z))
    ;; odd and even halves of the polynomial
    (local.set $s (f64.add (f64.mul %z ${horner('%w', [AT[0], AT[2], AT[4], AT[6], AT[8], AT[10]])})
                           (f64.mul %w ${horner('%w', [AT[1], AT[3], AT[5], AT[7], AT[9]])})))
    (if (i32.lt_s %id i:0) (then (return (f64.sub %x (f64.mul %x %s)))))
    (local.set $hi (select (select f:${ATAN_HI[0]} f:${ATAN_HI[1]} (i32.eqz %id)) (select f:${ATAN_HI[2]} f:${ATAN_HI[3]} (i32.eq %id i:2)) (i32.lt_u %id i:2)))
    (local.set $lo (select (select f:${ATAN_LO[0]} f:${ATAN_LO[1]} (i32.eqz %id)) (select f:${ATAN_LO[2]} f:${ATAN_LO[3]} (i32.eq %id i:2)) (i32.lt_u %id i:2)))
    (local.set $z (f64.sub %hi (f64.sub (f64.sub (f64.mul %x %s) %lo) %x)))
    (select (f64.neg %z) %z %sign))`,
);

// atan2(y, x) as C: the angle of (x, y), with every signed-zero and infinity case
defineMath(
  'atan2_f64',
  `(func $atan2_f64 (param $y f64) (param $x f64) (result f64) (local $ix i32) (local $iy i32) (local $m i32) (local $z f64)
    (if (i32.or (f64.ne %x %x) (f64.ne %y %y)) (then (return (f64.add %x %y))))
    (if (f64.eq %x f:1) (then (return (call $atan_f64 %y))))
    (local.set $ix (call $hi %x))
    (local.set $iy (call $hi %y))
    (local.set $m (i32.or (i32.shr_u %iy i:31) (i32.and (i32.shr_u %ix i:30) i:2)))
    (local.set $ix (i32.and %ix i:0x7fffffff))
    (local.set $iy (i32.and %iy i:0x7fffffff))
    (if (f64.eq %y f:0)
      (then (return (if (result f64) (i32.lt_u %m i:2) (then %y) (else (select f:-${PI} f:${PI} (i32.eq %m i:3)))))))
    (if (f64.eq %x f:0) (then (return (select f:-${PIO2_HI} f:${PIO2_HI} (i32.and %m i:1)))))
    (if (i32.eq %ix i:0x7ff00000)
      (then
        (if (i32.eq %iy i:0x7ff00000)
          (then (return (f64.mul (select f:-1 f:1 (i32.and %m i:1)) (select f:${(3 * PI) / 4} f:${PI / 4} (i32.and %m i:2)))))
          (else (return (f64.mul (select f:-1 f:1 (i32.and %m i:1)) (select f:${PI} f:0 (i32.and %m i:2))))))))
    (if (i32.or (i32.lt_u (i32.add %ix (i32.const ${64 << 20})) %iy) (i32.eq %iy i:0x7ff00000))
      (then (return (select f:-${PIO2_HI} f:${PIO2_HI} (i32.and %m i:1)))))
    (if (i32.and (i32.ne (i32.and %m i:2) i:0) (i32.lt_u (i32.add %iy (i32.const ${64 << 20})) %ix))
      (then (local.set $z f:0))
      (else (local.set $z (call $atan_f64 (f64.abs (f64.div %y %x))))))
    (if (result f64) (i32.lt_u %m i:2)
      (then (select (f64.neg %z) %z %m))
      (else (if (result f64) (i32.eq %m i:2)
        (then (f64.sub f:${PI} (f64.sub %z f:${PI_LO})))
        (else (f64.sub (f64.sub %z f:${PI_LO}) f:${PI}))))))`,
);
