/**
 * float32 MatMul whose product dims (M, N, K) are known only at run time where they do not lead every
 * operand (attention: Q·Kᵀ → [batch, heads, seq, seq] with N = seq, P·V with K = seq), on the
 * register-tiled gemm. The gemm's sizes and strides are static, so per batch entry the operands are staged
 * into scratch at static strides (those of the bounds): B once (⌈K⌉ × N), A one block of MB rows at a
 * time (MB × ⌈K⌉), ⌈K⌉ being K zero-padded to whole blocks of KB. The gemm then runs on MB × NB × KB
 * blocks in loops of run-time counts (K blocks accumulate into the staged C rows) and the rows and columns
 * within M and N are copied out, through the activation fused into the node (a Mul by the attention scale),
 * so no pass runs over the output at its bounds; the staged rows past M and columns past N (a static N is
 * staged to whole 8-wide panels) are computed from whatever the scratch holds and never read. Staging costs O(MK + KN + MN) moves against the product's O(MNK).
 * A static dim is one block of its own size (no padding, nothing accumulated).
 */
import * as sym from '../ir/symbolic.js';
import type { Expr, Kernel, Stmt } from '../kernels/ir.js';
import { add, cmp, f32, i32, load, loop, mul, store, v, when } from '../kernels/build.js';
import { broadcastStrides, indexOf, kernelExprOf } from '../kernels/extent.js';
import type { LowerIO } from '../ops/registry.js';
import { fusedActivation } from '../ops/fused-activation.js';
import { activate } from '../kernels/rewrite/epilogue.js';
import { gemm, view } from '../ops/nn/gemm-helpers.js';
import type { RowsStep } from './rows-step.js';
import { forEach, shapeOf } from './symbolic-kernels.js';

/**
 * Block sizes for a run-time M, N, K: MB rows keep the gemm's 4-row tiles busy, NB = 32 is four 8-wide
 * panels, KB = 32 keeps the accumulation passes over C few. What a run-time N or K leaves past its last
 * whole block runs in blocks of STEP (one 8-wide panel), so it is computed to the next multiple of 8, not
 * of 32 (crnn-rec's attention at sequence 40 computed 64 columns of Q·Kᵀ and summed 64 terms of P·V;
 * blocks of 8 throughout made bert-enc's at sequence 128 slower).
 */
const BLOCK = { M: 16, N: 32, K: 32 };
const STEP = 8;
/** A static N is computed to whole panels of this many columns: the gemm's narrower tails run 4-wide and scalar. */
const PANEL = 8;

type Ranges = Readonly<Record<string, sym.Range>>;

/** The MatMul's kernel with staged operands, or undefined where it does not apply (see the file's doc). */
export function stagedMatMul(step: RowsStep, io: LowerIO, ranges: Ranges): Kernel[] | undefined {
  const { node } = step;
  const [aType, bType] = step.inputTypes;
  const yType = step.outputTypes[0];
  if (io.forGpu || node.domain !== '' || node.op !== 'MatMul' || node.inputs.length !== 2) return undefined;
  if (!aType || !bType || yType.dtype !== 'float32') return undefined;
  const [a, b, y] = [shapeOf(aType), shapeOf(bType), shapeOf(yType)];
  if (a.length < 2 || b.length < 2) return undefined;
  const rank = y.length;
  const dims = { M: a[a.length - 2], K: a[a.length - 1], N: b[b.length - 1] };
  const sizes = (d: 'M' | 'N' | 'K') => {
    const fixed = sym.constValue(dims[d]);
    const max = sym.bounds(dims[d], ranges).max;
    const block =
      fixed === undefined ? Math.min(BLOCK[d], max) : d === 'N' ? Math.ceil(fixed / PANEL) * PANEL : fixed;
    const step = fixed === undefined && d !== 'M' ? STEP : block;
    return { run: kernelExprOf(dims[d]), block, step, padded: Math.ceil(max / step) * step, fixed };
  };
  /**
   * The blocks a dim runs in: its whole blocks, then (a run-time N or K) the rest in blocks of its step,
   * each as { size, first: the first block's start, count }
   */
  const levels = (d: 'N' | 'K', { block, step, fixed }: { block: number; step: number; fixed?: number }) => {
    // one level of blocks where the step is the block (a static dim, or a bound below a whole block):
    // the last block is partly past the dim
    if (step === block)
      return [{ size: block, first: i32(0), count: fixed === undefined ? sym.ceilDiv(dims[d], block) : 1 }];
    const whole = { size: block, first: i32(0), count: sym.floorDiv(dims[d], block) };
    const rest = sym.ceilDiv(sym.mod(dims[d], block), step);
    return [whole, { size: step, first: kernelExprOf(sym.mul(whole.count, block)), count: rest }];
  };
  const [M, N, K] = [sizes('M'), sizes('N'), sizes('K')];
  if ([M, N, K].some((d) => d.block < 1)) return undefined;
  const [nLevels, kLevels] = [levels('N', N), levels('K', K)];
  const blocks = (d: sym.SymLike, block: number) => kernelExprOf(sym.ceilDiv(d, block));
  const accumulate = K.fixed === undefined;
  const act = fusedActivation(node);

  const [A, B, Y] = [io.inputs[0]!, io.inputs[1]!, io.outputs[0]];
  const stagedB = io.scratch('float32', K.padded * N.padded);
  const stagedA = io.scratch('float32', M.block * K.padded);
  const stagedC = io.scratch('float32', M.block * N.padded);
  const [aStrides, bStrides, yStrides] = [a, b, y].map((s) => broadcastStrides(s, rank));
  const expr = (s: sym.SymLike) => kernelExprOf(s);
  /** element (row, col) of a matrix at `base` with row stride `rs` */
  const at = (base: Expr, rs: Expr | number, row: Expr, col: Expr) =>
    add(base, add(mul(row, typeof rs === 'number' ? i32(rs) : rs), col));
  const zeros = (name: string, n: Expr, index: (z: Expr) => Expr, buf = stagedA): Stmt[] =>
    accumulate ? [loop(name, n, [store(buf, index(v(name)), f32(0))])] : [];
  const padK = kPaddedMinusK(dims.K, K.step);
  const mb = v('mb');
  /** row `r` of the current block of M, and whether it is within M */
  const rowOf = (r: Expr) => add(mul(mb, i32(M.block)), r);
  const inM = (r: Expr) => cmp('lt', rowOf(r), M.run);

  const body = forEach(y.slice(0, rank - 2), 'd', (batch) => {
    const batchAt = (st: sym.SymLike[]) => indexOf(batch, st.slice(0, rank - 2));
    const [aAt, bAt, yAt] = [batchAt(aStrides), batchAt(bStrides), batchAt(yStrides)];
    const [bk, bn, ar, ak, cr, cn] = ['bk', 'bn', 'ar', 'ak', 'cr', 'cn'].map((x) => v(x));
    const elementOf = (buf: typeof A, base: Expr, st: sym.SymLike[], row: Expr, col: Expr) =>
      load(buf, add(base, add(mul(row, expr(st[rank - 2])), mul(col, expr(st[rank - 1])))));
    const stageB = [
      loop('bk', K.run, [
        loop('bn', N.run, [
          store(stagedB, at(i32(0), N.padded, bk, bn), elementOf(B, bAt, bStrides, bk, bn)),
        ]),
      ]),
      ...(accumulate
        ? [
            loop('bz', padK, [
              loop('bzn', N.run, [
                store(stagedB, at(i32(0), N.padded, add(K.run, v('bz')), v('bzn')), f32(0)),
              ]),
            ]),
          ]
        : []),
    ];
    const stageA = loop('ar', M.block, [
      when(inM(ar), [
        loop('ak', K.run, [
          store(stagedA, at(i32(0), K.padded, ar, ak), elementOf(A, aAt, aStrides, rowOf(ar), ak)),
        ]),
        ...zeros('az', padK, (z) => at(i32(0), K.padded, ar, add(K.run, z))),
      ]),
    ]);
    const clearC = accumulate
      ? [
          loop(
            'zr',
            M.block,
            zeros('zn', N.run, (z) => at(i32(0), N.padded, v('zr'), z), stagedC),
          ),
        ]
      : [];
    /** `body` per block of each level, its start in `start` (a loop var, or the one block at `first`) */
    const overLevels = (
      name: string,
      ls: { size: number; first: Expr; count: sym.SymLike }[],
      body: (start: Expr, size: number, level: number) => Stmt[],
    ): Stmt[] =>
      ls.flatMap(({ size, first, count }, i) => {
        const n = sym.constValue(count);
        if (n === 0) return [];
        const index = `${name}${i}`;
        const start = add(first, mul(v(index), i32(size)));
        return [loop(index, n ?? kernelExprOf(count), body(start, size, i))];
      });
    const product = overLevels('nb', nLevels, (n0, nSize, level) => {
      const cView = view(stagedC, n0, N.padded, 1);
      return overLevels(`kb${level}_`, kLevels, (k0, kSize) => [
        gemm(
          M.block,
          nSize,
          kSize,
          view(stagedA, k0, K.padded, 1),
          view(stagedB, add(mul(k0, i32(N.padded)), n0), N.padded, 1),
          cView,
          { streamB: true, ...(accumulate && { bias: cView }) },
        ),
      ]);
    });
    const copyOut = loop('cr', M.block, [
      when(inM(cr), [
        loop('cn', N.run, [
          store(
            Y,
            at(yAt, expr(yStrides[rank - 2]), rowOf(cr), cn),
            activate(act, load(stagedC, at(i32(0), N.padded, cr, cn))),
          ),
        ]),
      ]),
    ]);
    return [...stageB, loop('mb', blocks(dims.M, M.block), [stageA, ...clearC, ...product, copyOut])];
  });
  return [{ name: node.name, body }];
}

/** ⌈K / block⌉·block − K: the zero columns (of A) and rows (of B) that pad K to whole blocks. */
function kPaddedMinusK(K: sym.SymLike, block: number): Expr {
  return kernelExprOf(sym.sub(sym.mul(sym.ceilDiv(K, block), block), K));
}
