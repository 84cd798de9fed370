/**
 * The activation functions RNN, GRU and LSTM accept by name, with the activation_alpha /
 * activation_beta lists consumed in order by the functions that take parameters (as onnxruntime does).
 */
import type { Expr } from '../../kernels/ir.js';
import { add, cnst, max, min, mul, un } from '../../kernels/build.js';
import { traceElementwise, type ElementwiseDef } from '../../kernel-lang/elementwise.js';
import type { AttrDecl } from '../../kernel-lang/kernel.js';
import { attrFloats, attrString, type OpContext } from '../registry.js';
import { fail } from '../nn/common.js';
import {
  Elu,
  HardSigmoid,
  LeakyRelu,
  Sigmoid,
  Softplus,
  Softsign,
  ThresholdedRelu,
} from '../elementwise/float-activation.js';

export type ActivationFn = (x: Expr) => Expr;

const k = (x: Expr, value: number) => cnst(x.t, value);

interface ActivationDef {
  /** default alpha and beta; undefined = the function takes no such parameter */
  alpha?: number;
  beta?: number;
  make(alpha: number, beta: number): ActivationFn;
}

/** An activation op written in the kernel language; its alpha and beta attributes are the lists'. */
function languageActivation(def: ElementwiseDef): ActivationDef {
  const { alpha, beta } = def.attrs;
  const numberDefault = (d?: AttrDecl) => (d?.kind === 'float' || d?.kind === 'int' ? d.default : undefined);
  return {
    alpha: numberDefault(alpha),
    beta: numberDefault(beta),
    make: (a, b) => (x) =>
      traceElementwise(def, [x], { ...(alpha && { alpha: a }), ...(beta && { beta: b }) }),
  };
}

const ACTIVATIONS: Record<string, ActivationDef> = {
  relu: { make: () => (x) => max(x, k(x, 0)) },
  tanh: { make: () => (x) => un('tanh', x) },
  sigmoid: languageActivation(Sigmoid),
  affine: { alpha: 1, beta: 0, make: (a, b) => (x) => add(mul(k(x, a), x), k(x, b)) },
  leakyrelu: languageActivation(LeakyRelu),
  thresholdedrelu: languageActivation(ThresholdedRelu),
  scaledtanh: { alpha: 1, beta: 1, make: (a, b) => (x) => mul(k(x, a), un('tanh', mul(k(x, b), x))) },
  hardsigmoid: languageActivation(HardSigmoid),
  elu: languageActivation(Elu),
  softsign: languageActivation(Softsign),
  softplus: languageActivation(Softplus),
};

/**
 * The activation functions of each direction: `perDirection` names per direction, from the
 * `activations` attribute (one set shared by both directions, or one set per direction) or `defaults`.
 */
export function directionActivations(
  ctx: OpContext,
  defaults: readonly string[],
  directions: number,
): ActivationFn[][] {
  const perDirection = defaults.length;
  const names = ctx.node.attrs.activations === undefined ? [] : (ctx.node.attrs.activations as string[]);
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
    fail(ctx, `attribute activations must be a list of strings`);
  let list: string[];
  if (names.length === 0) list = Array.from({ length: directions }, () => defaults).flat();
  else if (names.length === perDirection * directions) list = names;
  else if (names.length === perDirection) list = Array.from({ length: directions }, () => names).flat();
  else
    fail(
      ctx,
      `attribute activations has ${names.length} names; expected ${perDirection} per direction (${perDirection * directions} in all)`,
    );
  const alphas = attrFloats(ctx.node, 'activation_alpha', []);
  const betas = attrFloats(ctx.node, 'activation_beta', []);
  let [ai, bi] = [0, 0];
  const fns = list.map((name) => {
    const def = ACTIVATIONS[name.toLowerCase()];
    if (!def)
      fail(
        ctx,
        `activation '${name}' is unsupported; expected one of ${Object.keys(ACTIVATIONS).join(', ')}`,
      );
    const alpha = def.alpha === undefined ? 0 : ai < alphas.length ? alphas[ai++] : def.alpha;
    const beta = def.beta === undefined ? 0 : bi < betas.length ? betas[bi++] : def.beta;
    return def.make(alpha, beta);
  });
  return Array.from({ length: directions }, (_, d) => fns.slice(d * perDirection, (d + 1) * perDirection));
}

/** The clip attribute as a bound on every gate's pre-activation; identity when absent. */
export function clipOf(ctx: OpContext): ActivationFn {
  if (ctx.node.attrs.clip === undefined) return (x) => x;
  const c = ctx.node.attrs.clip;
  if (typeof c !== 'number' || !(c > 0)) fail(ctx, `attribute clip ${String(c)} must be a positive float`);
  return (x) => max(min(x, k(x, c)), k(x, -c));
}

export function directionsOf(ctx: OpContext): { count: number; reverse: boolean[] } {
  const dir = attrString(ctx.node, 'direction', 'forward');
  if (dir === 'forward') return { count: 1, reverse: [false] };
  if (dir === 'reverse') return { count: 1, reverse: [true] };
  if (dir === 'bidirectional') return { count: 2, reverse: [false, true] };
  fail(ctx, `direction '${dir}' is not one of forward, reverse, bidirectional`);
}
