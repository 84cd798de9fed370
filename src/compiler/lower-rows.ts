/**
 * Lowering an op whose operands have dims known only at run time. Shape inference admits symbolic dims
 * only where an op works row by row over them (symbolic-shapes.ts), and here they must lead every
 * operand they appear in, with the same expressions: then each such operand is `rows × rowLength`
 * elements, rows = the product of the leading dims (counted at run time), rowLength static.
 *
 * The op is lowered at a few fixed row counts (16, 4, 1: a gemm keeps its register tiles) and each
 * lowering runs in a loop over the blocks of that many rows, every access shifted to its block
 * (kernels/row-offsets.ts): rows = 16·⌊R/16⌋ + 4·⌊(R mod 16)/4⌋ + (R mod 4). A MatMul or Gemm also has
 * blocks of 64 rows first: its gemm packs B into panels once per block, and over 16 rows that copy of the
 * whole weight took a quarter of bert-enc's dense layers' time more than one block of all the rows.
 */
import type { TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import { sizeOf } from '../ir/tensor.js';
import type { BufRef, Kernel } from '../kernels/ir.js';
import { add, i32, loop, mul, v } from '../kernels/build.js';
import { kernelExprOf } from '../kernels/extent.js';
import { shiftRows, type RowBuffer } from '../kernels/row-offsets.js';
import { OpError, type LowerIO, type OpDef } from '../ops/registry.js';
import { alwaysWithStrides, mixesSymbolicAxis, symbolicKernels } from './symbolic-kernels.js';
import type { RowsStep } from './rows-step.js';
import { spatialKernels } from './symbolic-spatial.js';
import { stagedMatMul } from './staged-gemm.js';

const BLOCK_ROWS = [16, 4, 1];
const GEMM_BLOCK_ROWS = [64, ...BLOCK_ROWS];

type Ranges = Readonly<Record<string, sym.Range>>;

/** What lowerRows needs of one node: its types (with shape expressions) and how to build its kernels. */
/**
 * Kernels for a node some operand of which has a dim known only at run time: by the op itself where it
 * takes them (runTimeDims), row by row where the
 * symbolic dims lead every operand (lowerRows), a MatMul on staged operands (staged-gemm.ts), else with
 * expression strides (symbolic-kernels.ts), else
 * one error naming the op and the way out.
 */
export function lowerSymbolic(
  step: RowsStep,
  def: OpDef,
  io: LowerIO,
  ranges: Ranges,
  activation: (kernels: Kernel[]) => Kernel[],
): Kernel[] {
  if (def.runTimeDims)
    return activation(
      def.runTimeDims.lower(
        step.ctx,
        io,
        step.inputTypes.map((t) => t && (t.symbolic ?? t.shape)),
        ranges,
      ),
    );
  const spatial = spatialKernels(step, io, ranges);
  if (spatial) return spatial;
  if (!alwaysWithStrides(step, def) && !mixesSymbolicAxis(step)) {
    const rows = lowerRows(step, io, ranges);
    if (rows) return rows;
  }
  const staged = stagedMatMul(step, io, ranges);
  if (staged) return staged;
  const generic = symbolicKernels(step, def, io);
  if (generic) return activation(generic);
  const shapes = [...step.inputTypes, ...step.outputTypes].flatMap((t) =>
    t?.symbolic ? [`[${t.symbolic.map(show)}]`] : [],
  );
  throw new OpError(
    step.node,
    step.ctx.opset,
    `runs with dims known only at run time where they lead every operand alike, not ${shapes.join(' and ')}; fix them with --shape`,
  );
}

/** The node's kernels looped over run-time rows, or undefined when its symbolic dims do not lead every operand alike. */
export function lowerRows(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  const lead = leadingDims(step);
  const rowsTotal = lead.reduce<sym.SymLike>((p, d) => sym.mul(p, d), 1);
  const maxRows = sym.bounds(rowsTotal, ranges).max;
  const operands = [
    ...step.inputTypes.map((t, i) => ({ t, buf: io.inputs[i] })),
    ...step.outputTypes.map((t, i) => ({ t, buf: io.outputs[i] as BufRef | undefined })),
  ];
  if (operands.some(({ t }) => t?.symbolic && !leads(t.symbolic, lead))) return undefined;

  const kernels: Kernel[] = [];
  let base: sym.SymLike = 0;
  let left: sym.SymLike = rowsTotal;
  const { op, domain } = step.node;
  const sizes = domain === '' && (op === 'MatMul' || op === 'Gemm') ? GEMM_BLOCK_ROWS : BLOCK_ROWS;
  const used = sizes.filter((b) => b === 1 || b <= maxRows);
  for (const block of used) {
    const count = sym.floorDiv(left, block);
    const rows = new Map<number, RowBuffer>();
    const blockIO = (buf: BufRef | undefined, t: TensorType | undefined): BufRef | undefined => {
      if (!buf || !t?.symbolic) return buf;
      const rowLength = sizeOf(t.shape.slice(lead.length));
      rows.set(buf.id, { buf, rowLength });
      return { ...buf, length: rowLength * block };
    };
    const blockType = (t: TensorType | undefined): TensorType | undefined =>
      t?.symbolic
        ? { dtype: t.dtype, shape: [...lead.slice(1).map(() => 1), block, ...t.shape.slice(lead.length)] }
        : t;
    const built = step.build(
      { ...step.ctx, inputs: step.inputTypes.map(blockType) },
      {
        ...io,
        inputs: io.inputs.map((b, i) => blockIO(b, step.inputTypes[i])),
        outputs: io.outputs.map((b, i) => blockIO(b, step.outputTypes[i])!),
      },
    );
    const r = `rows${block}`;
    const start = add(kernelExprOf(base), mul(v(r), i32(block)));
    const suffix = block === used[0] ? '' : `_rows${block}`;
    for (const k of built)
      kernels.push({
        name: k.name + suffix,
        body: [loop(r, kernelExprOf(count), shiftRows(k.body, rows, start))],
      });
    base = sym.add(base, sym.mul(count, block));
    left = sym.mod(left, block);
  }
  return kernels;
}

/** The leading symbolic dims of output 0: up to and including its last symbolic dim. */
function leadingDims(step: RowsStep): sym.SymLike[] {
  const out = step.outputTypes.find((t) => t.symbolic)?.symbolic;
  if (!out) throw new OpError(step.node, step.ctx.opset, 'internal: symbolic inputs but no symbolic output');
  let last = -1;
  out.forEach((d, i) => sym.constValue(d) === undefined && (last = i));
  return out.slice(0, last + 1);
}

function leads(shape: readonly sym.SymLike[], lead: readonly sym.SymLike[]): boolean {
  return (
    shape.length >= lead.length &&
    lead.every((d, i) => sym.symEqual(d, shape[i])) &&
    shape.slice(lead.length).every((d) => sym.constValue(d) !== undefined)
  );
}

const show = sym.symText;
