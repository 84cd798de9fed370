/** erf in f64, transcribed from fdlibm's s_erf.c (rational approximations on four intervals). */
import { defineMath, horner } from './wat.js';

const ERX = 8.45062911510467529297e-1;
const EFX8 = 1.02703333676410069053;
const PP = [
  1.28379167095512558561e-1, -3.2504210724700149937e-1, -2.84817495755985104766e-2,
  -5.77027029648944159157e-3, -2.37630166566501626084e-5,
];
const QQ = [
  1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3,
  1.32494738004321644526e-4, -3.9602282787753681232e-6,
];
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1,
  3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.166375594868790843e-3,
];
const QA = [
  1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2,
  1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.1984499846799107417e-2,
];
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1,
  -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1,
  -9.81432934416914548592,
];
const SA = [
  1, 1.96512716674392571292e1, 1.376577541435190426e2, 4.34565877475229228821e2, 6.45387271733267880336e2,
  4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2,
];
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1,
  -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2,
];
const SB = [
  1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3,
  2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1,
];

defineMath(
  'erf_f64',
  `(func $erf_f64 (param $x f64) (result f64) (local $ix i32) (local $sign i32) (local $z f64) (local $s f64)
    (local $r f64) (local $q f64) (local $y f64) (local $ax f64)
    (local.set $ix (call $hi %x))
    (local.set $sign (i32.shr_u %ix i:31))
    (local.set $ix (i32.and %ix i:0x7fffffff))
    (if (i32.ge_u %ix i:0x7ff00000)
      (then (return (f64.add (f64.convert_i32_s (i32.sub i:1 (i32.shl %sign i:1))) (f64.div f:1 %x)))))
    (if (i32.lt_u %ix i:0x3feb0000)
      (then
        (if (i32.lt_u %ix i:0x3e300000)
          (then (return (f64.mul f:0.125 (f64.add (f64.mul f:8 %x) (f64.mul f:${EFX8} %x))))))
        (local.set $z (f64.mul %x %x))
        (return (f64.add %x (f64.mul %x (f64.div ${horner('%z', PP)} ${horner('%z', QQ)}))))))
    (local.set $ax (f64.abs %x))
    (if (i32.lt_u %ix i:0x3ff40000)
      ;; 0.84375 <= |x| < 1.25
      (then
        (local.set $s (f64.sub %ax f:1))
        (local.set $y (f64.add f:${ERX} (f64.div ${horner('%s', PA)} ${horner('%s', QA)}))))
      (else (if (i32.lt_u %ix i:0x40180000)
        ;; 1.25 <= |x| < 6: erf = 1 - erfc
        (then
          (local.set $s (f64.div f:1 (f64.mul %ax %ax)))
          (if (i32.lt_u %ix i:0x4006db6d)
            (then (local.set $r ${horner('%s', RA)}) (local.set $q ${horner('%s', SA)}))
            (else (local.set $r ${horner('%s', RB)}) (local.set $q ${horner('%s', SB)})))
          (local.set $z (call $clear_lo %ax))
          (local.set $y (f64.sub f:1 (f64.div
            (f64.mul (call $exp_f64 (f64.sub (f64.mul (f64.neg %z) %z) f:0.5625))
                     (call $exp_f64 (f64.add (f64.mul (f64.sub %z %ax) (f64.add %z %ax)) (f64.div %r %q))))
            %ax))))
        (else (local.set $y (f64.sub f:1 f:0x1p-1022))))))
    (select (f64.neg %y) %y %sign))`,
);
