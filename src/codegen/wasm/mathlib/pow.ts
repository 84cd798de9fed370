/** pow in f64 with C99 special cases, transcribed from fdlibm's e_pow.c (error < 1 ulp). */
import { defineMath, horner } from './wat.js';

const L = [
  5.99999999999994648725e-1, 4.28571428578550184252e-1, 3.33333329818377432918e-1, 2.72728123808534006489e-1,
  2.30660745775561754067e-1, 2.06975017800338417784e-1,
];
const P = [
  1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.6533902205465251539e-6,
  4.13813679705723846039e-8,
];
const DP_H1 = 5.84962487220764160156e-1;
const DP_L1 = 1.35003920212974897128e-8;
const LG2 = 6.93147180559945286227e-1;
const LG2_H = 6.93147182464599609375e-1;
const LG2_L = -1.90465429995776804525e-9;
const OVT = 8.0085662595372944372e-17;
const CP = 9.61796693925975554329e-1;
const CP_H = 9.61796700954437255859e-1;
const CP_L = -7.02846165095275826516e-9;
const IVLN2 = 1.442695040888963387;
const IVLN2_H = 1.44269502162933349609;
const IVLN2_L = 1.92596299112661746887e-8;

defineMath(
  'pow_f64',
  `(func $pow_f64 (param $x f64) (param $y f64) (result f64)
    (local $hx i32) (local $lx i32) (local $hy i32) (local $ly i32) (local $ix i32) (local $iy i32)
    (local $yisint i32) (local $k i32) (local $j i32) (local $i i32) (local $n i32)
    (local $z f64) (local $ax f64) (local $z_h f64) (local $z_l f64) (local $p_h f64) (local $p_l f64)
    (local $y1 f64) (local $t1 f64) (local $t2 f64) (local $r f64) (local $s f64) (local $t f64) (local $u f64)
    (local $v f64) (local $w f64) (local $ss f64) (local $s2 f64) (local $s_h f64) (local $s_l f64) (local $t_h f64)
    (local $t_l f64) (local $bp f64) (local $dp_h f64) (local $dp_l f64)
    (local.set $hx (call $hi %x)) (local.set $lx (call $lo %x))
    (local.set $hy (call $hi %y)) (local.set $ly (call $lo %y))
    (local.set $ix (i32.and %hx i:0x7fffffff))
    (local.set $iy (i32.and %hy i:0x7fffffff))
    ;; x**0 = 1 and 1**y = 1, even for NaN
    (if (i32.eqz (i32.or %iy %ly)) (then (return f:1)))
    (if (f64.eq %x f:1) (then (return f:1)))
    (if (i32.or (f64.ne %x %x) (f64.ne %y %y)) (then (return (f64.add %x %y))))
    ;; yisint: 0 = not an integer, 1 = odd, 2 = even (only needed for x < 0)
    (if (i32.lt_s %hx i:0)
      (then
        (if (i32.ge_u %iy i:0x43400000)
          (then (local.set $yisint i:2))
          (else (if (i32.ge_u %iy i:0x3ff00000)
            (then
              (local.set $k (i32.sub (i32.shr_u %iy i:20) i:0x3ff))
              (if (i32.gt_s %k i:20)
                (then
                  (local.set $j (i32.shr_u %ly (i32.sub i:52 %k)))
                  (if (i32.eq (i32.shl %j (i32.sub i:52 %k)) %ly)
                    (then (local.set $yisint (i32.sub i:2 (i32.and %j i:1))))))
                (else (if (i32.eqz %ly)
                  (then
                    (local.set $j (i32.shr_u %iy (i32.sub i:20 %k)))
                    (if (i32.eq (i32.shl %j (i32.sub i:20 %k)) %iy)
                      (then (local.set $yisint (i32.sub i:2 (i32.and %j i:1)))))))))))))))
    (if (i32.eqz %ly)
      (then
        (if (i32.eq %iy i:0x7ff00000)
          (then
            (if (i32.eqz (i32.or (i32.sub %ix i:0x3ff00000) %lx)) (then (return f:1)))
            (if (i32.ge_u %ix i:0x3ff00000)
              (then (return (select %y f:0 (i32.ge_s %hy i:0))))
              (else (return (select f:0 (f64.neg %y) (i32.ge_s %hy i:0)))))))
        (if (i32.eq %iy i:0x3ff00000)
          (then (if (i32.ge_s %hy i:0) (then (return %x)) (else (return (f64.div f:1 %x))))))
        (if (i32.eq %hy i:0x40000000) (then (return (f64.mul %x %x))))
        (if (i32.eq %hy i:0x3fe00000) (then (if (i32.ge_s %hx i:0) (then (return (f64.sqrt %x))))))))
    (local.set $ax (f64.abs %x))
    ;; x is +-0, +-inf or +-1
    (if (i32.eqz %lx)
      (then (if (i32.or (i32.or (i32.eq %ix i:0x7ff00000) (i32.eqz %ix)) (i32.eq %ix i:0x3ff00000))
        (then
          (local.set $z %ax)
          (if (i32.lt_s %hy i:0) (then (local.set $z (f64.div f:1 %z))))
          (if (i32.lt_s %hx i:0)
            (then
              (if (i32.eqz (i32.or (i32.sub %ix i:0x3ff00000) %yisint))
                (then (local.set $z f:nan))
                (else (if (i32.eq %yisint i:1) (then (local.set $z (f64.neg %z))))))))
          (return %z)))))
    (local.set $s f:1)
    (if (i32.lt_s %hx i:0)
      (then
        (if (i32.eqz %yisint) (then (return f:nan)))
        (if (i32.eq %yisint i:1) (then (local.set $s f:-1)))))
    (if (i32.gt_u %iy i:0x41e00000)
      (then
        ;; |y| > 2^31
        (if (i32.gt_u %iy i:0x43f00000)
          (then
            (if (i32.le_u %ix i:0x3fefffff)
              (then (return (select f:inf f:0 (i32.lt_s %hy i:0)))))
            (if (i32.ge_u %ix i:0x3ff00000)
              (then (return (select f:inf f:0 (i32.gt_s %hy i:0)))))))
        (if (i32.lt_u %ix i:0x3fefffff)
          (then (return (f64.mul %s (select f:inf f:0 (i32.lt_s %hy i:0))))))
        (if (i32.gt_u %ix i:0x3ff00000)
          (then (return (f64.mul %s (select f:inf f:0 (i32.gt_s %hy i:0))))))
        ;; |1 - x| <= 2^-20: log(x) by x - x^2/2 + x^3/3 - x^4/4
        (local.set $t (f64.sub %ax f:1))
        (local.set $w (f64.mul (f64.mul %t %t) (f64.sub f:0.5 (f64.mul %t (f64.sub f:0.3333333333333333333333 (f64.mul %t f:0.25))))))
        (local.set $u (f64.mul f:${IVLN2_H} %t))
        (local.set $v (f64.sub (f64.mul %t f:${IVLN2_L}) (f64.mul %w f:${IVLN2})))
        (local.set $t1 (call $clear_lo (f64.add %u %v)))
        (local.set $t2 (f64.sub %v (f64.sub %t1 %u))))
      (else
        (local.set $n i:0)
        (if (i32.lt_u %ix i:0x00100000)
          (then
            (local.set $ax (f64.mul %ax f:9007199254740992))
            (local.set $n i:-53)
            (local.set $ix (call $hi %ax))))
        (local.set $n (i32.add %n (i32.sub (i32.shr_u %ix i:20) i:0x3ff)))
        (local.set $j (i32.and %ix i:0x000fffff))
        (local.set $ix (i32.or %j i:0x3ff00000))
        (if (i32.le_u %j i:0x3988e)
          (then (local.set $k i:0))
          (else (if (i32.lt_u %j i:0xbb67a)
            (then (local.set $k i:1))
            (else
              (local.set $k i:0)
              (local.set $n (i32.add %n i:1))
              (local.set $ix (i32.sub %ix i:0x00100000))))))
        (local.set $ax (call $with_hi %ax %ix))
        (local.set $bp (select f:1.5 f:1 %k))
        (local.set $dp_h (select f:${DP_H1} f:0 %k))
        (local.set $dp_l (select f:${DP_L1} f:0 %k))
        ;; ss = s_h + s_l = (x - bp) / (x + bp)
        (local.set $u (f64.sub %ax %bp))
        (local.set $v (f64.div f:1 (f64.add %ax %bp)))
        (local.set $ss (f64.mul %u %v))
        (local.set $s_h (call $clear_lo %ss))
        (local.set $t_h (call $words
          (i32.add (i32.add (i32.or (i32.shr_u %ix i:1) i:0x20000000) i:0x00080000) (i32.shl %k i:18)) i:0))
        (local.set $t_l (f64.sub %ax (f64.sub %t_h %bp)))
        (local.set $s_l (f64.mul %v (f64.sub (f64.sub %u (f64.mul %s_h %t_h)) (f64.mul %s_h %t_l))))
        ;; log(ax)
        (local.set $s2 (f64.mul %ss %ss))
        (local.set $r (f64.mul (f64.mul %s2 %s2) ${horner('%s2', L)}))
        (local.set $r (f64.add %r (f64.mul %s_l (f64.add %s_h %ss))))
        (local.set $s2 (f64.mul %s_h %s_h))
        (local.set $t_h (call $clear_lo (f64.add (f64.add f:3 %s2) %r)))
        (local.set $t_l (f64.sub %r (f64.sub (f64.sub %t_h f:3) %s2)))
        (local.set $u (f64.mul %s_h %t_h))
        (local.set $v (f64.add (f64.mul %s_l %t_h) (f64.mul %t_l %ss)))
        (local.set $p_h (call $clear_lo (f64.add %u %v)))
        (local.set $p_l (f64.sub %v (f64.sub %p_h %u)))
        (local.set $z_h (f64.mul f:${CP_H} %p_h))
        (local.set $z_l (f64.add (f64.add (f64.mul f:${CP_L} %p_h) (f64.mul %p_l f:${CP})) %dp_l))
        ;; log2(ax) = n + dp_h + z_h + z_l
        (local.set $t (f64.convert_i32_s %n))
        (local.set $t1 (call $clear_lo (f64.add (f64.add (f64.add %z_h %z_l) %dp_h) %t)))
        (local.set $t2 (f64.sub %z_l (f64.sub (f64.sub (f64.sub %t1 %t) %dp_h) %z_h)))))
    ;; (y1 + y2) * (t1 + t2)
    (local.set $y1 (call $clear_lo %y))
    (local.set $p_l (f64.add (f64.mul (f64.sub %y %y1) %t1) (f64.mul %y %t2)))
    (local.set $p_h (f64.mul %y1 %t1))
    (local.set $z (f64.add %p_l %p_h))
    (local.set $j (call $hi %z))
    (local.set $i (call $lo %z))
    (if (i32.ge_s %j i:0x40900000)
      (then
        (if (i32.or (i32.sub %j i:0x40900000) %i) (then (return (f64.mul %s f:inf))))
        (if (f64.gt (f64.add %p_l f:${OVT}) (f64.sub %z %p_h)) (then (return (f64.mul %s f:inf)))))
      (else (if (i32.ge_u (i32.and %j i:0x7fffffff) i:0x4090cc00)
        (then
          (if (i32.or (i32.sub %j i:0xc090cc00) %i) (then (return (f64.mul %s f:0))))
          (if (f64.le %p_l (f64.sub %z %p_h)) (then (return (f64.mul %s f:0))))))))
    ;; 2^(p_h + p_l)
    (local.set $i (i32.and %j i:0x7fffffff))
    (local.set $k (i32.sub (i32.shr_u %i i:20) i:0x3ff))
    (local.set $n i:0)
    (if (i32.gt_u %i i:0x3fe00000)
      (then
        (local.set $n (i32.add %j (i32.shr_u i:0x00100000 (i32.add %k i:1))))
        (local.set $k (i32.sub (i32.shr_u (i32.and %n i:0x7fffffff) i:20) i:0x3ff))
        (local.set $t (call $words (i32.and %n (i32.xor (i32.shr_u i:0x000fffff %k) i:-1)) i:0))
        (local.set $n (i32.shr_u (i32.or (i32.and %n i:0x000fffff) i:0x00100000) (i32.sub i:20 %k)))
        (if (i32.lt_s %j i:0) (then (local.set $n (i32.sub i:0 %n))))
        (local.set $p_h (f64.sub %p_h %t))))
    (local.set $t (call $clear_lo (f64.add %p_l %p_h)))
    (local.set $u (f64.mul %t f:${LG2_H}))
    (local.set $v (f64.add (f64.mul (f64.sub %p_l (f64.sub %t %p_h)) f:${LG2}) (f64.mul %t f:${LG2_L})))
    (local.set $z (f64.add %u %v))
    (local.set $w (f64.sub %v (f64.sub %z %u)))
    (local.set $t (f64.mul %z %z))
    (local.set $t1 (f64.sub %z (f64.mul %t ${horner('%t', P)})))
    (local.set $r (f64.sub (f64.div (f64.mul %z %t1) (f64.sub %t1 f:2)) (f64.add %w (f64.mul %z %w))))
    (local.set $z (f64.sub f:1 (f64.sub %r %z)))
    (local.set $j (i32.add (call $hi %z) (i32.shl %n i:20)))
    (if (i32.le_s (i32.shr_s %j i:20) i:0)
      (then (local.set $z (call $scalbn %z %n)))
      (else (local.set $z (call $with_hi %z %j))))
    (f64.mul %s %z))`,
);
