/**
 * What RNN, GRU and LSTM share: input validation and output types, and the lowering skeleton. Per
 * direction, one kernel projects every time step's input at once (X·Wᵀ + Wb), then loops over time:
 * the recurrent projection H·Rᵀ + Rb, then the cell's gate loops, which update the hidden (and cell)
 * state in place and write Y. Matrix products use the float32 gemm statement, other dtypes plain loops.
 */
import type { DType } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/graph.js';
import type { BufRef, Expr, Kernel, MatView, Scalar, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import { add, cmp, cnst, i32, load, local, loop, mul, store, sub, v, when } from '../../kernels/build.js';
import { attrInt, type LowerIO, type OpContext } from '../registry.js';
import { FLOAT_TYPES, fail, fmtShape, requireShape, typedInput } from '../nn/common.js';
import { at, gemm, matmulLoops, unitColumnB, view } from '../nn/gemm-helpers.js';
import { directionActivations, directionsOf, clipOf, type ActivationFn } from './activations.js';

export interface RecurrentShape {
  dtype: DType;
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  directions: number;
  reverse: boolean[];
  /** 1: batch-major X, Y, Y_h, Y_c (opset 14) */
  layout: number;
  /** gate blocks stacked in W, R and each half of B */
  gates: number;
}

/** Inputs 0–5 (X, W, R, B, sequence_lens, initial_h) as every recurrent op has them. */
export function recurrentShape(ctx: OpContext, gates: number): RecurrentShape {
  const layout = ctx.opset >= 14 ? attrInt(ctx.node, 'layout', 0) : 0;
  if (layout !== 0 && layout !== 1) fail(ctx, `layout ${layout} must be 0 or 1`);
  const x = typedInput(ctx, 0, 'X', FLOAT_TYPES);
  if (x.shape.length !== 3)
    fail(
      ctx,
      `X has shape ${fmtShape(x.shape)}; expected rank 3 ([seq, batch, input]${layout ? ' with layout 1 [batch, seq, input]' : ''})`,
    );
  const [seq, batch] = layout === 0 ? x.shape : [x.shape[1], x.shape[0]];
  const input = x.shape[2];
  const { count: directions, reverse } = directionsOf(ctx);
  const w = typedInput(ctx, 1, 'W', [x.dtype]);
  if (w.shape.length !== 3) fail(ctx, `W has shape ${fmtShape(w.shape)}; expected rank 3`);
  const hidden = attrInt(ctx.node, 'hidden_size', w.shape[1] / gates);
  if (!Number.isInteger(hidden) || hidden < 0)
    fail(ctx, `W has ${w.shape[1]} rows, not ${gates} gate blocks of a whole hidden size`);
  const dtype = x.dtype;
  requireShape(ctx, w, [directions, gates * hidden, input], 'W');
  requireShape(ctx, typedInput(ctx, 2, 'R', [dtype]), [directions, gates * hidden, hidden], 'R');
  const shape = { dtype, seq, batch, input, hidden, directions, reverse, layout, gates };
  if (ctx.inputs[3])
    requireShape(ctx, typedInput(ctx, 3, 'B', [dtype]), [directions, 2 * gates * hidden], 'B');
  if (ctx.inputs[4])
    requireShape(ctx, typedInput(ctx, 4, 'sequence_lens', ['int32']), [batch], 'sequence_lens');
  if (ctx.inputs[5])
    requireShape(ctx, typedInput(ctx, 5, 'initial_h', [dtype]), stateShape(shape), 'initial_h');
  return shape;
}

/** Y_h / Y_c / initial_h / initial_c shape. */
export const stateShape = (s: RecurrentShape): number[] =>
  s.layout === 0 ? [s.directions, s.batch, s.hidden] : [s.batch, s.directions, s.hidden];

/** Y, then `states` state outputs (Y_h, and Y_c for LSTM). */
export function recurrentOutputs(s: RecurrentShape, states: number): TensorType[] {
  const y =
    s.layout === 0 ? [s.seq, s.directions, s.batch, s.hidden] : [s.batch, s.seq, s.directions, s.hidden];
  return [
    { dtype: s.dtype, shape: y },
    ...Array.from({ length: states }, () => ({ dtype: s.dtype, shape: stateShape(s) })),
  ];
}

/** One (batch row b, hidden unit j) of a step, inside its sequence. */
export interface Lane {
  b: Expr;
  j: Expr;
  /** index of (b, j) in the [batch, hidden] state buffers */
  at: Expr;
  /** input projection X·Wᵀ + Wb of gate block g at this lane's time step */
  xw(g: number): Expr;
  /** recurrent projection H·Rᵀ + Rb of gate block g for this step */
  hr(g: number): Expr;
}

/** What a cell's step sees of one direction's recurrence. */
export interface Step {
  /** direction index (0, or 1 for the reverse half of a bidirectional op) */
  direction: number;
  /** compute type: f32 for float16/float32, f64 for float64 */
  t: Scalar;
  /** this direction's activation functions, in the op's order */
  act: ActivationFn[];
  clip: ActivationFn;
  /** hidden state [batch, hidden], updated in place */
  h: BufRef;
  /** loops over every lane still inside its sequence; `tag` keeps loop and local names unique */
  forActive(tag: string, body: (lane: Lane) => Stmt[]): Stmt[];
  /** the last gate loops: as forActive, and zeroing Y past a sequence's end; `emit` stores the new h */
  forActiveOutput(tag: string, body: (lane: Lane, emit: (h: Expr) => Stmt[]) => Stmt[]): Stmt[];
  /** into (batch × hidden) = a·R[gate block g]ᵀ + Rb[g]: GRU's reset-gated product */
  recurrentProduct(a: BufRef, g: number, into: BufRef): Stmt[];
  /** a [batch, hidden] buffer in the compute type */
  stateScratch(): BufRef;
}

export interface Cell {
  /** gate blocks of R the step's recurrent projection covers (GRU without linear_before_reset: z and r) */
  recurrentGates: number;
  /** inputs that initialize extra states (LSTM's initial_c), 0 when omitted; they end in outputs 2… */
  extraStates: number[];
  step(s: Step, extra: BufRef[]): Stmt[];
}

/** C (M×N) = A·B + bias rows: the gemm statement for float32, plain loops otherwise. */
function project(
  M: number,
  N: number,
  K: number,
  a: MatView,
  b: MatView,
  c: MatView,
  bias: MatView | undefined,
  prefix: string,
): Stmt[] {
  if (M === 0 || N === 0) return [];
  const f32 = [a, b, c].every((m) => m.buf.dtype === 'float32') && K > 0;
  if (f32) return [gemm(M, N, K, a, b, c, bias ? { bias } : {})];
  const epilogue = bias ? (acc: Expr, m: Expr, n: Expr) => add(acc, at(bias, m, n)) : undefined;
  return matmulLoops(M, N, K, a, b, c, prefix, epilogue);
}

export function lowerRecurrence(
  ctx: OpContext,
  io: LowerIO,
  s: RecurrentShape,
  defaults: readonly string[],
  cell: Cell,
): Kernel[] {
  const { seq, batch, input: I, hidden: H, directions, layout } = s;
  const GH = s.gates * H;
  const [X, W, R, B, L, H0] = io.inputs;
  const [Y, Yh, ...extraOut] = io.outputs;
  const t = scalarOf(s.dtype);
  const work: DType = t === 'f64' ? 'float64' : 'float32';
  const acts = directionActivations(ctx, defaults, directions);
  const clip = clipOf(ctx);
  const stateAt = (d: number, b: Expr, j: Expr) =>
    layout === 0
      ? add(mul(add(i32(d * batch), b), i32(H)), j)
      : add(mul(add(mul(b, i32(directions)), i32(d)), i32(H)), j);
  const yAt = (d: number, time: Expr, b: Expr, j: Expr) =>
    layout === 0
      ? add(mul(add(mul(add(mul(time, i32(directions)), i32(d)), i32(batch)), b), i32(H)), j)
      : add(mul(add(mul(add(mul(b, i32(seq)), time), i32(directions)), i32(d)), i32(H)), j);
  // Rows of X are (t, b) pairs (layout 0) or (b, t) pairs (layout 1): [seq·batch, input] either way.
  const xRow = (time: Expr, b: Expr) =>
    layout === 0 ? add(mul(time, i32(batch)), b) : add(mul(b, i32(seq)), time);
  const rc = cell.recurrentGates * H;

  return s.reverse.map((reverse, d) => {
    const scratch = (n: number) => io.scratch(work, n);
    const body: Stmt[] = [];
    const xw = scratch(seq * batch * GH);
    const w = unitColumnB(
      view(W!, i32(d * GH * I), 1, I),
      seq * batch,
      I,
      GH,
      (n) => io.scratch(W!.dtype, n),
      'wt',
    );
    const wBias = B ? view(B, i32(d * 2 * GH), 0, 1) : undefined;
    body.push(
      ...w.prep,
      ...project(seq * batch, GH, I, view(X!, i32(0), I, 1), w.view, view(xw, i32(0), GH, 1), wBias, 'x'),
    );
    // Rᵀ once per run, so every step's gemm reads unit-stride rows.
    let rT = view(R!, i32(d * GH * H), 1, H);
    if (R!.dtype === 'float32' && GH > 0 && H > 0) {
      const buf = io.scratch('float32', H * GH);
      const [k, n] = [v('rtk'), v('rtn')];
      body.push(
        loop('rtk', H, [
          loop('rtn', GH, [
            store(buf, add(mul(k, i32(GH)), n), load(R!, add(i32(d * GH * H), add(mul(n, i32(H)), k)))),
          ]),
        ]),
      );
      rT = view(buf, i32(0), GH, 1);
    }
    const rGates = (g: number): MatView => ({
      ...rT,
      offset: add(rT.offset, i32(g * H * (rT.rs === 1 ? H : 1))),
    });
    const rBias = (g: number) => (B ? view(B, i32(d * 2 * GH + GH + g * H), 0, 1) : undefined);

    const h = scratch(batch * H);
    const extra = cell.extraStates.map(() => scratch(batch * H));
    [h, ...extra].forEach((buf, i) => {
      const src = i === 0 ? H0 : io.inputs[cell.extraStates[i - 1]];
      const [b, j] = [v(`init${i}b`), v(`init${i}j`)];
      body.push(
        loop(`init${i}b`, batch, [
          loop(`init${i}j`, H, [
            store(buf, add(mul(b, i32(H)), j), src ? load(src, stateAt(d, b, j)) : cnst(t, 0)),
          ]),
        ]),
      );
    });

    const hr = scratch(batch * rc);
    const step = v('s');
    /** Loops over batch rows (those inside their sequence, when sequence_lens is given) and hidden units. */
    const lanes = (
      tag: string,
      f: (lane: Lane, time: Expr) => Stmt[],
      past?: (b: Expr, j: Expr) => Stmt[],
    ): Stmt[] => {
      const [b, j] = [v(`b${tag}`), v(`j${tag}`)];
      const len = L ? v(`len${tag}`, 'i32') : i32(seq);
      const time = v(`t${tag}`);
      const row = v(`row${tag}`);
      const lane: Lane = {
        b,
        j,
        at: add(mul(b, i32(H)), j),
        xw: (g) => load(xw, add(mul(row, i32(GH)), add(j, i32(g * H)))),
        hr: (g) => load(hr, add(mul(b, i32(rc)), add(j, i32(g * H)))),
      };
      const inner = [loop(`j${tag}`, H, f(lane, time))];
      const guarded = L
        ? [when(cmp('lt', step, len), inner, past ? [loop(`p${tag}`, H, past(b, v(`p${tag}`)))] : undefined)]
        : inner;
      return [
        loop(`b${tag}`, batch, [
          ...(L ? [local(`len${tag}`, 'i32', load(L, b))] : []),
          local(`t${tag}`, 'i32', reverse ? sub(sub(len, i32(1)), step) : step),
          local(`row${tag}`, 'i32', xRow(time, b)),
          ...guarded,
        ]),
      ];
    };
    const ctxStep: Step = {
      direction: d,
      t,
      act: acts[d],
      clip,
      h,
      forActive: (tag, f) => lanes(tag, (lane) => f(lane)),
      forActiveOutput: (tag, f) =>
        lanes(
          tag,
          (lane, time) =>
            f(lane, (value) => [
              local(`hn${tag}`, t, value),
              store(h, lane.at, v(`hn${tag}`, t)),
              store(Y, yAt(d, time, lane.b, lane.j), v(`hn${tag}`, t)),
            ]),
          // Steps past a sequence's end leave the state alone and output zeros.
          (b, j) => [store(Y, yAt(d, step, b, j), cnst(t, 0))],
        ),
      recurrentProduct: (a, g, into) =>
        project(batch, H, H, view(a, i32(0), H, 1), rGates(g), view(into, i32(0), H, 1), rBias(g), `p${g}`),
      stateScratch: () => scratch(batch * H),
    };
    const stepBody = [
      ...project(batch, rc, H, view(h, i32(0), H, 1), rGates(0), view(hr, i32(0), rc, 1), rBias(0), 'r'),
      ...cell.step(ctxStep, extra),
    ];
    body.push(loop('s', seq, stepBody));
    [Yh, ...extraOut].forEach((out, i) => {
      const buf = [h, ...extra][i];
      const [b, j] = [v(`fin${i}b`), v(`fin${i}j`)];
      body.push(
        loop(`fin${i}b`, batch, [
          loop(`fin${i}j`, H, [store(out, stateAt(d, b, j), load(buf, add(mul(b, i32(H)), j)))]),
        ]),
      );
    });
    return {
      name: directions > 1 ? `${ctx.node.name}/${reverse ? 'reverse' : 'forward'}` : ctx.node.name,
      body,
    };
  });
}
