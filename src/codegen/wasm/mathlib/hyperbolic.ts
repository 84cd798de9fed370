/** sinh, cosh, tanh, asinh, acosh, atanh in f64, transcribed from musl (built on expm1 and log1p). */
import { defineMath } from './wat.js';

const LN2 = 0.693147180559945309417232121458176568;

// exp(x) * sign for x beyond log(DBL_MAX) without overflowing early (musl __expo2, k = 2043)
defineMath(
  'expo2',
  `(func $expo2 (param $x f64) (param $sign f64) (result f64) (local $scale f64)
    (local.set $scale (f64.reinterpret_i64 (i64.shl (i64.const ${0x3ff + 1021}) I:52)))
    (f64.mul (f64.mul (call $exp_f64 (f64.sub %x f:1416.0996898839683)) (f64.mul %sign %scale)) %scale))`,
);

defineMath(
  'sinh_f64',
  `(func $sinh_f64 (param $x f64) (result f64) (local $h f64) (local $ax f64) (local $w i32) (local $t f64)
    (local.set $h (f64.copysign f:0.5 %x))
    (local.set $ax (f64.abs %x))
    (local.set $w (call $hi %ax))
    (if (i32.lt_u %w i:0x40862e42)
      (then
        (local.set $t (call $expm1_f64 %ax))
        (if (i32.lt_u %w i:0x3ff00000)
          (then
            (if (i32.lt_u %w (i32.const ${0x3ff00000 - (26 << 20)})) (then (return %x)))
            (return (f64.mul %h (f64.sub (f64.mul f:2 %t) (f64.div (f64.mul %t %t) (f64.add %t f:1)))))))
        (return (f64.mul %h (f64.add %t (f64.div %t (f64.add %t f:1)))))))
    (call $expo2 %ax (f64.mul f:2 %h)))`,
);

defineMath(
  'cosh_f64',
  `(func $cosh_f64 (param $x f64) (result f64) (local $w i32) (local $t f64)
    (local.set $x (f64.abs %x))
    (local.set $w (call $hi %x))
    (if (i32.lt_u %w i:0x3fe62e42)
      (then
        (if (i32.lt_u %w (i32.const ${0x3ff00000 - (26 << 20)})) (then (return f:1)))
        (local.set $t (call $expm1_f64 %x))
        (return (f64.add f:1 (f64.div (f64.mul %t %t) (f64.mul f:2 (f64.add f:1 %t)))))))
    (if (i32.lt_u %w i:0x40862e42)
      (then
        (local.set $t (call $exp_f64 %x))
        (return (f64.mul f:0.5 (f64.add %t (f64.div f:1 %t))))))
    (call $expo2 %x f:1))`,
);

defineMath(
  'tanh_f64',
  `(func $tanh_f64 (param $x f64) (result f64) (local $w i32) (local $ax f64) (local $t f64)
    (local.set $ax (f64.abs %x))
    (local.set $w (call $hi %ax))
    (if (i32.gt_u %w i:0x3fe193ea)
      (then (if (i32.gt_u %w i:0x40340000)
        ;; |x| > 20 (or nan): tanh saturates
        (then (local.set $t (f64.sub f:1 (f64.div f:0 %ax))))
        (else
          (local.set $t (call $expm1_f64 (f64.mul f:2 %ax)))
          (local.set $t (f64.sub f:1 (f64.div f:2 (f64.add %t f:2)))))))
      (else (if (i32.gt_u %w i:0x3fd058ae)
        (then
          (local.set $t (call $expm1_f64 (f64.mul f:2 %ax)))
          (local.set $t (f64.div %t (f64.add %t f:2))))
        (else (if (i32.ge_u %w i:0x00100000)
          (then
            (local.set $t (call $expm1_f64 (f64.mul f:-2 %ax)))
            (local.set $t (f64.div (f64.neg %t) (f64.add %t f:2))))
          (else (local.set $t %ax)))))))
    (f64.copysign %t %x))`,
);

defineMath(
  'asinh_f64',
  `(func $asinh_f64 (param $x f64) (result f64) (local $e i32) (local $ax f64)
    (local.set $e (i32.and (i32.shr_u (call $hi %x) i:20) i:0x7ff))
    (local.set $ax (f64.abs %x))
    (if (i32.ge_u %e (i32.const ${0x3ff + 26}))
      (then (local.set $ax (f64.add (call $log_f64 %ax) f:${LN2})))
      (else (if (i32.ge_u %e (i32.const ${0x3ff + 1}))
        (then (local.set $ax (call $log_f64 (f64.add (f64.mul f:2 %ax)
          (f64.div f:1 (f64.add (f64.sqrt (f64.add (f64.mul %ax %ax) f:1)) %ax))))))
        (else (if (i32.ge_u %e (i32.const ${0x3ff - 26}))
          (then (local.set $ax (call $log1p_f64 (f64.add %ax (f64.div (f64.mul %ax %ax)
            (f64.add (f64.sqrt (f64.add (f64.mul %ax %ax) f:1)) f:1)))))))))))
    (f64.copysign %ax %x))`,
);

defineMath(
  'acosh_f64',
  `(func $acosh_f64 (param $x f64) (result f64) (local $e i32) (local $t f64)
    (if (f64.lt %x f:1) (then (return f:nan)))
    (local.set $e (i32.and (i32.shr_u (call $hi %x) i:20) i:0x7ff))
    (if (i32.lt_u %e (i32.const ${0x3ff + 1}))
      (then
        (local.set $t (f64.sub %x f:1))
        (return (call $log1p_f64 (f64.add %t (f64.sqrt (f64.add (f64.mul %t %t) (f64.mul f:2 %t))))))))
    (if (i32.lt_u %e (i32.const ${0x3ff + 26}))
      (then (return (call $log_f64 (f64.sub (f64.mul f:2 %x)
        (f64.div f:1 (f64.add %x (f64.sqrt (f64.sub (f64.mul %x %x) f:1)))))))))
    (f64.add (call $log_f64 %x) f:${LN2}))`,
);

defineMath(
  'atanh_f64',
  `(func $atanh_f64 (param $x f64) (result f64) (local $e i32) (local $y f64)
    (local.set $e (i32.and (i32.shr_u (call $hi %x) i:20) i:0x7ff))
    (local.set $y (f64.abs %x))
    (if (i32.lt_u %e (i32.const ${0x3ff - 1}))
      (then (if (i32.ge_u %e (i32.const ${0x3ff - 32}))
        (then (local.set $y (f64.mul f:0.5 (call $log1p_f64 (f64.add (f64.mul f:2 %y)
          (f64.div (f64.mul (f64.mul f:2 %y) %y) (f64.sub f:1 %y)))))))))
      (else (local.set $y (f64.mul f:0.5 (call $log1p_f64 (f64.mul f:2 (f64.div %y (f64.sub f:1 %y))))))))
    (f64.copysign %y %x))`,
);
