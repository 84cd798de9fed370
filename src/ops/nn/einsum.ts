/**
 * Einsum (opset 12): any equation NumPy's einsum accepts — repeated labels (diagonals), sums over
 * labels missing from the output, `...` broadcast across operands, implicit output (broadcast dims, then
 * labels used once, in ASCII order). Lowered to one loop nest: output labels outside, summed labels inside.
 */
import type { TensorType } from '../../ir/graph.js';
import type { Expr, Kernel, Stmt } from '../../kernels/ir.js';
import { scalarOf } from '../../kernels/ir.js';
import {
  add,
  cnst,
  linearIndex,
  load,
  local,
  loop,
  mul,
  set,
  store,
  stridesOf,
  v,
} from '../../kernels/build.js';
import { OpError, attrString, registerOp, type LowerIO, type OpContext, type OpDef } from '../registry.js';
import { NUMERIC, requireSameDtype, typedInput } from '../elementwise/common.js';
import { gemm, unitColumnB, view } from './gemm-helpers.js';

/**
 * Each operand's and the output's labels in axis order. Broadcast ('...') dims are labelled '0', '1'...
 * counted from the left of the widest '...', so operands with fewer broadcast dims align to the right.
 */
interface EinsumPlan {
  inputs: string[][];
  output: string[];
  sizes: Map<string, number>;
  types: TensorType[];
}

interface Term {
  letters: string[];
  /** position of '...' among the letters, or -1 */
  ellipsisAt: number;
}

function parseTerm(ctx: OpContext, term: string, what: string): Term {
  const letters: string[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length;) {
    if (term.startsWith('...', i)) {
      if (ellipsisAt >= 0)
        throw new OpError(ctx.node, ctx.opset, `${what} "${term}" has more than one '...'`);
      ellipsisAt = letters.length;
      i += 3;
    } else if (/[A-Za-z]/.test(term[i])) letters.push(term[i++]);
    else
      throw new OpError(
        ctx.node,
        ctx.opset,
        `${what} "${term}" has '${term[i]}'; expected letters and at most one '...'`,
      );
  }
  return { letters, ellipsisAt };
}

const broadcastLabels = (rank: number, total: number): string[] =>
  Array.from({ length: rank }, (_, i) => String(total - rank + i));

function plan(ctx: OpContext): EinsumPlan {
  const equation = attrString(ctx.node, 'equation').replace(/\s+/g, '');
  const [lhs, rhs, extra] = equation.split('->');
  if (extra !== undefined)
    throw new OpError(ctx.node, ctx.opset, `equation "${equation}" has more than one '->'`);
  const terms = lhs.split(',').map((s, i) => parseTerm(ctx, s, `operand ${i} term`));
  if (terms.length !== ctx.inputs.length)
    throw new OpError(
      ctx.node,
      ctx.opset,
      `equation "${equation}" names ${terms.length} operand(s) but the node has ${ctx.inputs.length} input(s)`,
    );
  const types = terms.map((_, i) => typedInput(ctx, i, NUMERIC));
  requireSameDtype(ctx, types);

  // Broadcast rank: the widest '...' among the operands.
  const ellipsisRanks = terms.map((term, i) => {
    const rank = types[i].shape.length - term.letters.length;
    if (term.ellipsisAt < 0 ? rank !== 0 : rank < 0)
      throw new OpError(
        ctx.node,
        ctx.opset,
        `operand ${i} has shape [${types[i].shape}] but its term "${lhs.split(',')[i]}" names ${term.letters.length} dims`,
      );
    return rank;
  });
  const bRank = Math.max(0, ...ellipsisRanks);
  const sizes = new Map<string, number>();
  const inputs = terms.map((term, i) => {
    const labels =
      term.ellipsisAt < 0
        ? term.letters
        : [
            ...term.letters.slice(0, term.ellipsisAt),
            ...broadcastLabels(ellipsisRanks[i], bRank),
            ...term.letters.slice(term.ellipsisAt),
          ];
    labels.forEach((label, a) => {
      const d = types[i].shape[a];
      const known = sizes.get(label);
      const isBroadcast = /\d/.test(label);
      if (known === undefined || (isBroadcast && known === 1)) sizes.set(label, d);
      else if (d !== known && !(isBroadcast && d === 1))
        throw new OpError(
          ctx.node,
          ctx.opset,
          isBroadcast
            ? `operand ${i}'s '...' dims [${types[i].shape}] do not broadcast with the other operands'`
            : `label '${label}' has size ${d} in operand ${i} but ${known} elsewhere`,
        );
    });
    return labels;
  });

  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const term of terms) for (const l of term.letters) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, n]) => n === 1).map(([l]) => l);
    output = [...broadcastLabels(bRank, bRank), ...once.sort()];
  } else {
    const term = parseTerm(ctx, rhs, 'output term');
    for (const [i, l] of term.letters.entries()) {
      if (!sizes.has(l)) throw new OpError(ctx.node, ctx.opset, `output label '${l}' appears in no operand`);
      if (term.letters.indexOf(l) !== i)
        throw new OpError(ctx.node, ctx.opset, `output label '${l}' appears more than once`);
    }
    output =
      term.ellipsisAt < 0
        ? term.letters
        : [
            ...term.letters.slice(0, term.ellipsisAt),
            ...broadcastLabels(bRank, bRank),
            ...term.letters.slice(term.ellipsisAt),
          ];
  }
  return { inputs, output, sizes, types };
}

const outputShape = (p: EinsumPlan): number[] => p.output.map((l) => p.sizes.get(l)!);
const loopVar = (label: string): string => `e_${label}`;

/** Each label's stride in a tensor whose axes carry `labels` (labels unique). */
function labelStrides(labels: readonly string[], shape: readonly number[]): Map<string, number> {
  const strides = stridesOf(shape);
  return new Map(labels.map((l, a) => [l, strides[a]]));
}

/**
 * float32 contractions of two operands shaped like a batched matmul — at most one row label (in A and
 * the output), one column label (in B and the output, last in the output) and one summed label (in A and
 * B), plus batch labels in all three, no diagonals or broadcasting: 'bij,bjk->bik', attention's
 * 'bhid,bhjd->bhij' — become one gemm statement per batch element. Undefined for anything else.
 */
function asGemm(name: string, p: EinsumPlan, io: LowerIO): Kernel | undefined {
  if (io.outputs[0].dtype !== 'float32' || p.inputs.length !== 2) return undefined;
  const [A, B] = p.inputs;
  const O = p.output;
  if (new Set(A).size !== A.length || new Set(B).size !== B.length) return undefined;
  const broadcasts = p.inputs.some((labels, i) =>
    p.types[i].shape.some((d, a) => d !== p.sizes.get(labels[a])),
  );
  if (broadcasts) return undefined;
  const batch = O.filter((l) => A.includes(l) && B.includes(l));
  const rows = O.filter((l) => A.includes(l) && !B.includes(l));
  const cols = O.filter((l) => B.includes(l) && !A.includes(l));
  const summed = A.filter((l) => B.includes(l) && !O.includes(l));
  if (rows.length > 1 || cols.length > 1 || summed.length > 1) return undefined;
  // a label summed within one operand alone is not a matmul
  if ([...A, ...B].some((l) => !O.includes(l) && !summed.includes(l))) return undefined;
  if (cols.length && O[O.length - 1] !== cols[0]) return undefined;
  const size = (l: string | undefined): number => (l === undefined ? 1 : p.sizes.get(l)!);
  const [m, n, k] = [rows[0], cols[0], summed[0]];
  const [M, N, K] = [size(m), size(n), size(k)];
  if (K === 0 || M * N === 0) return undefined;
  const sA = labelStrides(A, p.types[0].shape);
  const sB = labelStrides(B, p.types[1].shape);
  const sO = labelStrides(O, outputShape(p));
  const stride = (s: Map<string, number>, l: string | undefined): number => (l === undefined ? 0 : s.get(l)!);
  const offset = (s: Map<string, number>): Expr =>
    linearIndex(
      batch.map((l) => v(loopVar(l))),
      batch.map((l) => s.get(l)!),
    );
  const a = view(io.inputs[0]!, offset(sA), stride(sA, m), stride(sA, k));
  const b = view(io.inputs[1]!, offset(sB), stride(sB, k), stride(sB, n));
  const c = view(io.outputs[0], offset(sO), stride(sO, m), 1);
  const { view: bUnit, prep } = unitColumnB(b, M, K, N, (len) => io.scratch('float32', len), 't');
  const body = batch.reduceRight<Stmt[]>(
    (inner, l) => [loop(loopVar(l), size(l), inner)],
    [...prep, gemm(M, N, K, a, bUnit, c)],
  );
  return { name, body };
}

function lower(ctx: OpContext, io: LowerIO): Kernel[] {
  const p = plan(ctx);
  const viaGemm = asGemm(ctx.node.name, p, io);
  if (viaGemm) return [viaGemm];
  const out = io.outputs[0];
  const t = scalarOf(out.dtype);
  const summed = [...p.sizes.keys()].filter((l) => !p.output.includes(l));
  const operand = (i: number): Expr => {
    const shape = p.types[i].shape;
    // A broadcast dim of size 1 under a larger label reads index 0 (stride 0).
    const strides = stridesOf(shape).map((s, a) => (shape[a] === 1 ? 0 : s));
    return load(
      io.inputs[i]!,
      linearIndex(
        p.inputs[i].map((l) => v(loopVar(l))),
        strides,
      ),
    );
  };
  const product = p.inputs.map((_, i) => operand(i)).reduce((a, b) => mul(a, b));
  const nest = (labels: string[], body: Stmt[]): Stmt[] =>
    labels.reduceRight((inner, l) => [loop(loopVar(l), p.sizes.get(l)!, inner)], body);
  const outIndex = linearIndex(
    p.output.map((l) => v(loopVar(l))),
    stridesOf(outputShape(p)),
  );
  const body = nest(p.output, [
    set('acc', cnst(t, 0)),
    ...nest(summed, [set('acc', add(v('acc', t), product))]),
    store(out, outIndex, v('acc', t)),
  ]);
  return [{ name: ctx.node.name, body: [local('acc', t, cnst(t, 0)), ...body] }];
}

const einsum: OpDef = {
  sinceVersion: 12,
  infer(ctx) {
    const p = plan(ctx);
    return [{ dtype: p.types[0].dtype, shape: outputShape(p) }];
  },
  lower,
};

registerOp('Einsum', einsum);
