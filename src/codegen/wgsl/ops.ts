/**
 * Op → WGSL code tables. Each entry renders one Kernel IR op for one compute type from its operands' text:
 * an infix operator, a WGSL built-in, or a helper function (helpers.ts) where WGSL differs from the IR.
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
type BinRule = { f32?: Render; i32?: Render | Divide };

const BIN: Record<BinOp, BinRule> = {
  add: { f32: infix('+'), i32: infix('+') },
  sub: { f32: infix('-'), i32: infix('-') },
  mul: { f32: infix('*'), i32: infix('*') },
  div: { f32: infix('/'), i32: { safe: infix('/'), guarded: call('div_s_i32') } },
  rem: { f32: call('fmod_f32'), i32: { safe: infix('%'), guarded: call('rem_s_i32') } },
  div_u: { i32: call('div_u_i32') },
  rem_u: { i32: call('rem_u_i32') },
  min: { f32: call('fmin_f32'), i32: call('min') },
  max: { f32: call('fmax_f32'), i32: call('max') },
  pow: { f32: call('pow_f32') },
  atan2: { f32: call('atan2_f32') },
  and: { i32: infix('&') },
  or: { i32: infix('|') },
  xor: { i32: infix('^') },
  shl: { i32: shift('<<') },
  shr_s: { i32: shift('>>') },
  shr_u: { i32: (a, b) => `bitcast<i32>(bitcast<u32>(${a}) >> (bitcast<u32>(${b}) & 31u))` },
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

/** Comparisons render as WGSL bool; the caller converts to i32 0/1. */
const CMP: Record<CmpOp, { f32?: Render; i32: Render }> = {
  eq: { f32: infix('=='), i32: infix('==') },
  // Tint emits an ordered not-equal (false for NaN): negate the equality instead
  ne: { f32: (a, b) => `!(${a} == ${b})`, i32: infix('!=') },
  lt: { f32: infix('<'), i32: infix('<') },
  le: { f32: infix('<='), i32: infix('<=') },
  gt: { f32: infix('>'), i32: infix('>') },
  ge: { f32: infix('>='), i32: infix('>=') },
  lt_u: { i32: unsigned('<') },
  le_u: { i32: unsigned('<=') },
  gt_u: { i32: unsigned('>') },
  ge_u: { i32: unsigned('>=') },
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

const UN: Partial<Record<UnOp, { f32?: Render; i32?: Render }>> = {
  neg: { f32: (a) => `(-${a})`, i32: (a) => `(0i - ${a})` },
  abs: { i32: call('abs') },
  floor: { i32: identity },
  ceil: { i32: identity },
  trunc: { i32: identity },
  // WGSL's round() rounds half to even
  nearest: { f32: call('round'), i32: identity },
  not: { i32: (a) => `(~${a})` },
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

/** Conversion between compute types; float → int truncates and saturates, NaN → 0. */
export function castCode(from: WgslScalar, to: WgslScalar, isUnsigned: boolean): Render {
  if (from === to) return identity;
  if (from === 'f32') return call(isUnsigned ? 'f32_to_u32_sat' : 'f32_to_i32_sat');
  return isUnsigned ? (a) => `f32(bitcast<u32>(${a}))` : call('f32');
}
