/**
 * Op → wasm code tables. Each entry says how to compute one Kernel IR op for one scalar type: a plain
 * instruction, or a call to a helper function (non-trapping integer division, math library).
 */
import type { BinOp, CmpOp, Expr, Scalar, UnOp } from '../../kernels/ir.js';
import { isSafeDivisor } from '../../kernels/analysis/divisor.js';

/** An instruction applied to the operands, or a helper function called with them. */
export type Code = { instr: string } | { helper: string };

const isFloat = (t: Scalar): boolean => t === 'f32' || t === 'f64';
const instr = (name: string): Code => ({ instr: name });
const helper = (name: string): Code => ({ helper: name });

type BinRule = (t: Scalar, b: Expr) => Code | undefined;
const floatOnly =
  (f: (t: Scalar) => Code): BinRule =>
  (t) =>
    isFloat(t) ? f(t) : undefined;
const intOnly =
  (f: (t: Scalar) => Code): BinRule =>
  (t) =>
    isFloat(t) ? undefined : f(t);

const BIN: Record<BinOp, BinRule> = {
  add: (t) => instr(`${t}.add`),
  sub: (t) => instr(`${t}.sub`),
  mul: (t) => instr(`${t}.mul`),
  div: (t, b) =>
    isFloat(t) || isSafeDivisor(b) ? instr(`${t}.div${isFloat(t) ? '' : '_s'}`) : helper(`div_s_${t}`),
  rem: (t, b) =>
    isFloat(t) ? helper(`fmod_${t}`) : isSafeDivisor(b) ? instr(`${t}.rem_s`) : helper(`rem_s_${t}`),
  div_u: intOnly((t) => helper(`div_u_${t}`)),
  rem_u: intOnly((t) => helper(`rem_u_${t}`)),
  min: (t) => (isFloat(t) ? instr(`${t}.min`) : helper(`min_s_${t}`)),
  max: (t) => (isFloat(t) ? instr(`${t}.max`) : helper(`max_s_${t}`)),
  pow: floatOnly((t) => helper(`pow_${t}`)),
  atan2: floatOnly((t) => helper(`atan2_${t}`)),
  and: intOnly((t) => instr(`${t}.and`)),
  or: intOnly((t) => instr(`${t}.or`)),
  xor: intOnly((t) => instr(`${t}.xor`)),
  shl: intOnly((t) => instr(`${t}.shl`)),
  shr_s: intOnly((t) => instr(`${t}.shr_s`)),
  shr_u: intOnly((t) => instr(`${t}.shr_u`)),
};

export function binCode(op: BinOp, t: Scalar, b: Expr): Code {
  const code = BIN[op](t, b);
  if (!code) throw new Error(`${op} is not defined on ${t}`);
  return code;
}

const CMP_SUFFIX: Record<CmpOp, { float?: string; int: string }> = {
  eq: { float: 'eq', int: 'eq' },
  ne: { float: 'ne', int: 'ne' },
  lt: { float: 'lt', int: 'lt_s' },
  le: { float: 'le', int: 'le_s' },
  gt: { float: 'gt', int: 'gt_s' },
  ge: { float: 'ge', int: 'ge_s' },
  lt_u: { int: 'lt_u' },
  le_u: { int: 'le_u' },
  gt_u: { int: 'gt_u' },
  ge_u: { int: 'ge_u' },
};

export function cmpCode(op: CmpOp, t: Scalar): Code {
  const suffix = isFloat(t) ? CMP_SUFFIX[op].float : CMP_SUFFIX[op].int;
  if (!suffix) throw new Error(`comparison ${op} is not defined on ${t}`);
  return instr(`${t}.${suffix}`);
}

/** Math functions implemented by the wasm math library (f64, wrapped for f32). */
export const MATH_FUNCS = [
  'exp',
  'log',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'sinh',
  'cosh',
  'tanh',
  'asinh',
  'acosh',
  'atanh',
  'erf',
] as const satisfies readonly UnOp[];

/**
 * Unary ops as code, or as a rendering of the operand text for ops that are compositions
 * (integer neg/not, inf tests). Integer rounding ops are the identity.
 */
export type UnCode = Code | { wrap: (a: string) => string };

export function unCode(op: UnOp, t: Scalar): UnCode {
  const float = isFloat(t);
  switch (op) {
    case 'neg':
      return float ? instr(`${t}.neg`) : { wrap: (a) => `(${t}.sub (${t}.const 0) ${a})` };
    case 'abs':
      return float ? instr(`${t}.abs`) : helper(`abs_${t}`);
    case 'floor':
    case 'ceil':
    case 'trunc':
    case 'nearest':
      return float ? instr(`${t}.${op}`) : { wrap: (a) => a };
    case 'not':
      if (float) break;
      return { wrap: (a) => `(${t}.xor ${a} (${t}.const -1))` };
    case 'isnan':
      if (!float) break;
      return helper(`isnan_${t}`);
    case 'isinf_pos':
    case 'isinf_neg':
      if (!float) break;
      return { wrap: (a) => `(${t}.eq ${a} (${t}.const ${op === 'isinf_pos' ? 'inf' : '-inf'}))` };
    case 'sqrt':
      if (!float) break;
      return instr(`${t}.sqrt`);
    default:
      if (!float) break;
      return helper(`${op}_${t}`);
  }
  throw new Error(`${op} is not defined on ${t}`);
}

/** Conversion instruction from one scalar type to another. */
export function castCode(from: Scalar, to: Scalar, unsigned: boolean): UnCode {
  if (from === to) return { wrap: (a) => a };
  const sign = unsigned ? 'u' : 's';
  if (isFloat(from) && isFloat(to)) return instr(to === 'f64' ? 'f64.promote_f32' : 'f32.demote_f64');
  // float → int saturates (no trap); `unsigned` on a float source selects the unsigned range
  if (isFloat(from)) return instr(`${to}.trunc_sat_${from}_${sign}`);
  if (isFloat(to)) return instr(`${to}.convert_${from}_${sign}`);
  return instr(to === 'i64' ? `i64.extend_i32_${sign}` : 'i32.wrap_i64');
}
