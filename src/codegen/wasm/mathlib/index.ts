/**
 * The wasm math library: every function is implemented once in f64 (musl/fdlibm algorithms) and used for
 * f32 through promote/demote, which rounds the f64 result once more to f32. Functions are helpers, so a
 * module only contains the ones it uses.
 */
import { defineHelper } from '../helpers.js';
import { MATH_FUNCS } from '../ops.js';
import './exp-log.js';
import './pow.js';
import './trig.js';
import './rem-pio2-large.js';
import './hyperbolic.js';
import './erf.js';

for (const name of MATH_FUNCS) {
  defineHelper(
    `${name}_f32`,
    `(func $${name}_f32 (param $x f32) (result f32) (f32.demote_f64 (call $${name}_f64 (f64.promote_f32 (local.get $x)))))`,
  );
}
for (const name of ['pow', 'atan2']) {
  defineHelper(
    `${name}_f32`,
    `(func $${name}_f32 (param $x f32) (param $y f32) (result f32)
      (f32.demote_f64 (call $${name}_f64 (f64.promote_f32 (local.get $x)) (f64.promote_f32 (local.get $y)))))`,
  );
}
import './vector.js';
