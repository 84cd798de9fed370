/**
 * Lane tables: the instructions one feature level of the module renders for each lane operation, chosen
 * once per target, so emitters are written once over `Lanes` instead of branching on the feature (issue #12).
 * A table's operands are rendered WAT expressions.
 */
import type { Activation } from '../../kernels/ir.js';
import { constText } from './types.js';

export interface Lanes {
  /** the feature level this table renders for; kernels key their per-feature tuning (e.g. tile shapes) on it */
  feature: 'scalar' | 'simd128' | 'relaxed';
  /** f32 lanes per value */
  width: 1 | 4;
  add: string;
  mul: string;
  /**
   * min/max for clamping a value to a constant bound, `(min value bound)`: a NaN value stays NaN, but the
   * sign of a zero result may differ from f32.min/max's
   */
  min: string;
  max: string;
  /** acc + a·b */
  madd: (acc: string, a: string, b: string) => string;
  /** a·b + acc (madd with the operands in that order, where the order shows in the instructions) */
  mulAdd: (a: string, b: string, acc: string) => string;
  /** acc − a·b */
  nmadd: (acc: string, a: string, b: string) => string;
  /** the suffix of the names of this level's f32x4 math helpers (mathlib/vector.ts) */
  helperSuffix: '' | '_fma';
  /** x in every lane */
  splat: (x: number) => string;
  load: string;
  store: string;
}

export const SCALAR_LANES: Lanes = {
  feature: 'scalar',
  width: 1,
  add: 'f32.add',
  mul: 'f32.mul',
  min: 'f32.min',
  max: 'f32.max',
  madd: (acc, a, b) => `(f32.add ${acc} (f32.mul ${a} ${b}))`,
  mulAdd: (a, b, acc) => `(f32.add (f32.mul ${a} ${b}) ${acc})`,
  nmadd: (acc, a, b) => `(f32.sub ${acc} (f32.mul ${a} ${b}))`,
  helperSuffix: '',
  splat: (x) => constText('f32', x),
  load: 'f32.load',
  store: 'f32.store',
};

export const SIMD128_LANES = {
  feature: 'simd128',
  width: 4,
  add: 'f32x4.add',
  mul: 'f32x4.mul',
  // pmin/pmax: one minps/maxps (the strict min/max take about eight instructions); see vectorize.ts clampOf
  min: 'f32x4.pmin',
  max: 'f32x4.pmax',
  madd: (acc, a, b) => `(f32x4.add ${acc} (f32x4.mul ${a} ${b}))`,
  mulAdd: (a, b, acc) => `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`,
  nmadd: (acc, a, b) => `(f32x4.sub ${acc} (f32x4.mul ${a} ${b}))`,
  helperSuffix: '',
  splat: (x) => `(f32x4.splat ${constText('f32', x)})`,
  load: 'v128.load',
  store: 'v128.store',
} satisfies Lanes;

/**
 * The relaxed-SIMD module's vectors. relaxed_madd / relaxed_nmadd are one fused multiply-add where the
 * hardware has one (rounded once or twice as the engine chooses). Relaxed min/max are one instruction (minps/maxps on x86)
 * where the strict ones need a NaN and -0 fix-up; a NaN or the sign of a zero result may differ from the
 * strict form's, so emitters use them only to clamp (Relu, Clip).
 */
export const RELAXED_LANES = {
  ...SIMD128_LANES,
  feature: 'relaxed',
  min: 'f32x4.relaxed_min',
  max: 'f32x4.relaxed_max',
  madd: (acc: string, a: string, b: string) => `(f32x4.relaxed_madd ${a} ${b} ${acc})`,
  mulAdd: (a: string, b: string, acc: string) => `(f32x4.relaxed_madd ${a} ${b} ${acc})`,
  nmadd: (acc: string, a: string, b: string) => `(f32x4.relaxed_nmadd ${a} ${b} ${acc})`,
  helperSuffix: '_fma',
} satisfies Lanes;

/** The f32x4 lane table of a module with (relaxedSimd) or without relaxed-SIMD instructions. */
export const vectorLanes = (relaxedSimd: boolean): Lanes & { feature: 'simd128' | 'relaxed' } =>
  relaxedSimd ? RELAXED_LANES : SIMD128_LANES;

/**
 * A gemm epilogue's Relu or Clip of `v`: a clamp to constant bounds by the table's min/max (pmin/pmax in
 * SIMD128), the varying operand first, as vectorize.ts clampOf renders them; `v` itself for other activations.
 */
export function clampActivation(act: Activation | undefined, v: string, lanes: Lanes): string {
  if (act?.op === 'relu') return `(${lanes.max} ${v} ${lanes.splat(0)})`;
  if (act?.op === 'clip')
    return `(${lanes.min} (${lanes.max} ${v} ${lanes.splat(act.min)}) ${lanes.splat(act.max)})`;
  return v;
}
