/**
 * Shorthands that keep the hand-written math WAT readable; expanded before registration:
 * `%x` → (local.get $x), `f:1.5` → (f64.const 1.5), `i:0x3ff` → (i32.const 0x3ff), `I:7` → (i64.const 7).
 */
import { defineHelper } from '../helpers.js';

const NUM = String.raw`-?(?:0x[0-9a-fA-F.]+(?:p[-+]?\d+)?|\d[\d.]*(?:[eE][-+]?\d+)?|inf|nan)`;

function expandShorthands(text: string): string {
  return text
    .replace(/%([A-Za-z_]\w*)/g, '(local.get $$$1)')
    .replace(new RegExp(`\\bf:(${NUM})`, 'g'), '(f64.const $1)')
    .replace(new RegExp(`\\bi:(${NUM})`, 'g'), '(i32.const $1)')
    .replace(new RegExp(`\\bI:(${NUM})`, 'g'), '(i64.const $1)');
}

export function defineMath(name: string, text: string): void {
  defineHelper(name, expandShorthands(text));
}

/** Horner evaluation c0 + x*(c1 + x*(c2 + ...)) of f64 coefficients, as WAT. */
export function horner(x: string, coeffs: number[] | string[]): string {
  const [c0, ...rest] = coeffs.map((c) => (typeof c === 'number' ? `(f64.const ${c})` : c));
  return rest.length ? `(f64.add ${c0} (f64.mul ${x} ${horner(x, rest)}))` : c0;
}

// IEEE word access, as in fdlibm's GET_HIGH_WORD / SET_LOW_WORD.
defineMath(
  'hi',
  '(func $hi (param $x f64) (result i32) (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 %x) I:32)))',
);
defineMath('lo', '(func $lo (param $x f64) (result i32) (i32.wrap_i64 (i64.reinterpret_f64 %x)))');
defineMath(
  'words',
  `(func $words (param $hi i32) (param $lo i32) (result f64)
    (f64.reinterpret_i64 (i64.or (i64.shl (i64.extend_i32_u %hi) I:32) (i64.extend_i32_u %lo))))`,
);
defineMath(
  'clear_lo',
  '(func $clear_lo (param $x f64) (result f64) (f64.reinterpret_i64 (i64.and (i64.reinterpret_f64 %x) I:0xffffffff00000000)))',
);
defineMath(
  'with_hi',
  '(func $with_hi (param $x f64) (param $hi i32) (result f64) (call $words %hi (call $lo %x)))',
);
