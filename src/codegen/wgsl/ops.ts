/**
 * Op → WGSL code tables. Each entry renders one Kernel IR op for one compute type from its operands' text:
 * an infix operator, a WGSL built-in, or a helper function (helpers.ts) where WGSL differs from the IR.
 * i64 values are vec2<u32> (low, high): bitwise ops apply per word, the rest are i64_* helpers.
 */
import type { BinOp, CmpOp, Expr, UnOp } from '../../kernels/ir.js';
import { isSafeDivisor } from '../../kernels/analysis/divisor.js';
import type { WgslScalar } from './types.js';

type Render = (...args: string[]) => string;

const infix =
  (op: string): Render =>
  (a, b) =>
    `(${a} ${op} ${b})`;
const call =
  (fn: string): Render =>
  (...args) =>
    `${fn}(${args.join(', ')})`;
/** shift counts taken modulo 32, as in wasm */
const shift =
  (op: string): Render =>
  (a, b) =>
    `(${a} ${op} (bitcast<u32>(${b}) & 31u))`;

/** Integer division needs a guard unless the divisor is a safe constant. */
type Divide = { safe: Render; guarded: Render };
type BinRule = { f32?: Render; i32?: Render | Divide; i64?: Render };

const BIN: Record<BinOp, BinRule> = {
  add: { f32: infix('+'), i32: infix('+'), i64: call('i64_add') },
  sub: { f32: infix('-'), i32: infix('-'), i64: call('i64_sub') },
  mul: { f32: infix('*'), i32: infix('*'), i64: call('i64_mul') },
  div: { f32: infix('/'), i32: { safe: infix('/'), guarded: call('div_s_i32') }, i64: call('i64_div_s') },
  rem: {
    f32: call('fmod_f32'),
    i32: { safe: infix('%'), guarded: call('rem_s_i32') },
    i64: call('i64_rem_s'),
  },
  div_u: { i32: call('div_u_i32'), i64: call('i64_div_u') },
  rem_u: { i32: call('rem_u_i32'), i64: call('i64_rem_u') },
  min: { f32: call('fmin_f32'), i32: call('min'), i64: call('i64_min') },
  max: { f32: call('fmax_f32'), i32: call('max'), i64: call('i64_max') },
  pow: { f32: call('pow_f32') },
  atan2: { f32: call('atan2_f32') },
  and: { i32: infix('&'), i64: infix('&') },
  or: { i32: infix('|'), i64: infix('|') },
  xor: { i32: infix('^'), i64: infix('^') },
  shl: { i32: shift('<<'), i64: call('i64_shl') },
  shr_s: { i32: shift('>>'), i64: call('i64_shr_s') },
  shr_u: {
    i32: (a, b) => `bitcast<i32>(bitcast<u32>(${a}) >> (bitcast<u32>(${b}) & 31u))`,
    i64: call('i64_shr_u'),
  },
};

export function binCode(op: BinOp, t: WgslScalar, b: Expr): Render {
  const rule = BIN[op][t];
  if (!rule) throw new Error(`${op} is not defined on ${t}`);
  if (typeof rule === 'function') return rule;
  return isSafeDivisor(b) ? rule.safe : rule.guarded;
}

const unsigned =
  (op: string): Render =>
  (a, b) =>
    `(bitcast<u32>(${a}) ${op} bitcast<u32>(${b}))`;

/** a < b by an i64 helper (i64_lt_s, i64_lt_u); the other orders swap or negate it */
const less =
  (lt: string, swap: boolean, negate: boolean): Render =>
  (a, b) =>
    `${negate ? '!' : ''}${lt}(${swap ? `${b}, ${a}` : `${a}, ${b}`})`;

/** Comparisons render as WGSL bool; the caller converts to i32 0/1. */
const CMP: Record<CmpOp, { f32?: Render; i32: Render; i64: Render }> = {
  eq: { f32: infix('=='), i32: infix('=='), i64: (a, b) => `all(${a} == ${b})` },
  // Tint emits an ordered not-equal (false for NaN): negate the equality instead
  ne: { f32: (a, b) => `!(${a} == ${b})`, i32: infix('!='), i64: (a, b) => `any(${a} != ${b})` },
  lt: { f32: infix('<'), i32: infix('<'), i64: less('i64_lt_s', false, false) },
  le: { f32: infix('<='), i32: infix('<='), i64: less('i64_lt_s', true, true) },
  gt: { f32: infix('>'), i32: infix('>'), i64: less('i64_lt_s', true, false) },
  ge: { f32: infix('>='), i32: infix('>='), i64: less('i64_lt_s', false, true) },
  lt_u: { i32: unsigned('<'), i64: less('i64_lt_u', false, false) },
  le_u: { i32: unsigned('<='), i64: less('i64_lt_u', true, true) },
  gt_u: { i32: unsigned('>'), i64: less('i64_lt_u', true, false) },
  ge_u: { i32: unsigned('>='), i64: less('i64_lt_u', false, true) },
};

export function cmpCode(op: CmpOp, t: WgslScalar): Render {
  const rule = CMP[op][t];
  if (!rule) throw new Error(`comparison ${op} is not defined on ${t}`);
  return rule;
}

const identity: Render = (a) => a;
/** WGSL built-ins accurate enough for the IR's ops; the others have helpers (helpers.ts says why) */
const BUILTIN_F32: UnOp[] = [
  'abs',
  'sqrt',
  'floor',
  'ceil',
  'trunc',
  'exp',
  'log',
  'sin',
  'cos',
  'tan',
  'cosh',
];
const HELPER_F32: UnOp[] = ['asin', 'acos', 'atan', 'sinh', 'tanh', 'asinh', 'acosh', 'atanh', 'erf'];

const UN: Partial<Record<UnOp, { f32?: Render; i32?: Render; i64?: Render }>> = {
  neg: { f32: (a) => `(-${a})`, i32: (a) => `(0i - ${a})`, i64: call('i64_neg') },
  abs: { i32: call('abs'), i64: call('i64_abs') },
  floor: { i32: identity, i64: identity },
  ceil: { i32: identity, i64: identity },
  trunc: { i32: identity, i64: identity },
  // WGSL's round() rounds half to even
  nearest: { f32: call('round'), i32: identity, i64: identity },
  not: { i32: (a) => `(~${a})`, i64: (a) => `(~${a})` },
  isnan: { f32: (a) => `i32(is_nan(${a}))` },
  isinf_pos: { f32: (a) => `i32(bitcast<u32>(${a}) == 0x7f800000u)` },
  isinf_neg: { f32: (a) => `i32(bitcast<u32>(${a}) == 0xff800000u)` },
};

export function unCode(op: UnOp, t: WgslScalar): Render {
  const f32Rule = BUILTIN_F32.includes(op)
    ? call(op)
    : HELPER_F32.includes(op)
      ? call(`${op}_f32`)
      : undefined;
  const rule = UN[op]?.[t] ?? (t === 'f32' ? f32Rule : undefined);
  if (!rule) throw new Error(`${op} is not defined on ${t}`);
  return rule;
}

/** A conversion reading its integer source as signed, and as unsigned. */
type CastRule = { signed: Render; unsigned: Render };
const both = (r: Render): CastRule => ({ signed: r, unsigned: r });

/** Conversions between compute types, by `from>to`; float → int truncates and saturates, NaN → 0. */
const CAST: Partial<Record<`${WgslScalar}>${WgslScalar}`, CastRule>> = {
  'f32>i32': { signed: call('f32_to_i32_sat'), unsigned: call('f32_to_u32_sat') },
  'f32>i64': { signed: call('f32_to_i64_sat'), unsigned: call('f32_to_u64_sat') },
  'i32>f32': { signed: call('f32'), unsigned: (a) => `f32(bitcast<u32>(${a}))` },
  'i64>f32': { signed: call('i64_to_f32'), unsigned: call('u64_to_f32') },
  'i32>i64': { signed: call('i64_from_i32'), unsigned: (a) => `vec2<u32>(bitcast<u32>(${a}), 0u)` },
  // wraps: the low word
  'i64>i32': both((a) => `bitcast<i32>((${a}).x)`),
};

export function castCode(from: WgslScalar, to: WgslScalar, isUnsigned: boolean): Render {
  if (from === to) return identity;
  const rule = CAST[`${from}>${to}`];
  if (!rule) throw new Error(`no conversion from ${from} to ${to}`);
  return isUnsigned ? rule.unsigned : rule.signed;
}
