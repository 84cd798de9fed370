/** TopK and Einsum: shape inference, validation messages, kernels, and onnxruntime on extra cases. */
import { describe, expect, it } from 'vitest';
import '../../src/ops/select/index.js';
import { infer, run, t, values } from './elementwise-harness.js';
import { compareWithOrt, type NodeCase, type OperandSpec } from '../helpers/ort-oracle.js';
import type { DType } from '../../src/ir/dtype.js';
import type { Stmt } from '../../src/kernels/ir.js';
import { findOp } from '../../src/ops/registry.js';

const k = (n: number) => t('int64', [1], [n]);
const f = (dims: number[], dtype: DType = 'float32'): OperandSpec => ({ dtype, dims });

describe('TopK', () => {
  it('keeps the lower index first among equal values, largest and smallest', () => {
    const x = t('float32', [6], [3, 1, 3, 2, 1, 3]);
    const [vals, idx] = run('TopK', 11, [x, k(4)]);
    expect(values(vals)).toEqual([3, 3, 3, 2]);
    expect(values(idx)).toEqual([0, 2, 5, 3]);
    const [svals, sidx] = run('TopK', 11, [x, k(3)], { largest: 0 });
    expect(values(svals)).toEqual([1, 1, 2]);
    expect(values(sidx)).toEqual([1, 4, 3]);
  });

  it('works along a middle axis and for unsigned and 64-bit integers', () => {
    const x = t('int32', [2, 3, 2], [5, 0, 7, 9, 6, 9, 1, 2, 3, 4, 5, 6]);
    const [vals, idx] = run('TopK', 11, [x, k(2)], { axis: 1 });
    expect(vals.dims).toEqual([2, 2, 2]);
    expect(values(vals)).toEqual([7, 9, 6, 9, 5, 6, 3, 4]);
    expect(values(idx)).toEqual([1, 1, 2, 2, 2, 2, 1, 1]);
    const u = t('uint32', [3], [1, 4294967295, 7]);
    expect(values(run('TopK', 11, [u, k(1)])[0])).toEqual([4294967295]);
    const big = t('int64', [3], [-(2 ** 40), 2 ** 40, 0]);
    expect(values(run('TopK', 11, [big, k(3)], { largest: 0 })[1])).toEqual([0, 2, 1]);
  });

  it('reads k from the attribute before opset 10 and allows K = 0', () => {
    const x = t('float32', [2, 3], [1, 5, 2, 0, -1, 4]);
    expect(values(run('TopK', 1, [x], { k: 1 })[0])).toEqual([5, 4]);
    expect(infer('TopK', 11, [x, k(0)])[0].shape).toEqual([2, 0]);
  });

  it('names K and the axis size when K is out of range, and types a run-time K at the axis length', () => {
    const x = t('float32', [2, 3], [1, 5, 2, 0, -1, 4]);
    expect(() => infer('TopK', 11, [x, k(4)])).toThrow(/K=4 must be in \[0, 3\]/);
    // its bound: passes/data-shapes.ts makes the dim a data symbol (tests/runtime/data-shapes.test.ts)
    expect(infer('TopK', 11, [x, { dtype: 'int64', shape: [1] }])[0].shape).toEqual([2, 3]);
  });
});

describe('Einsum', () => {
  it('multiplies matrices with an implicit output (labels used once, in order)', () => {
    const a = t('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const b = t('float32', [3, 2], [1, 0, 0, 1, 1, 1]);
    const out = run('Einsum', 12, [a, b], { equation: 'ij,jk' })[0];
    expect(out.dims).toEqual([2, 2]);
    expect(values(out)).toEqual([4, 5, 10, 11]);
    // 'ba' is implicitly transposed to 'ab'
    expect(values(run('Einsum', 12, [a], { equation: 'ba' })[0])).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('takes traces and diagonals, and sums integer products', () => {
    const m = t('int32', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(values(run('Einsum', 12, [m], { equation: 'ii' })[0])).toEqual([15]);
    expect(values(run('Einsum', 12, [m], { equation: 'ii->i' })[0])).toEqual([1, 5, 9]);
    expect(values(run('Einsum', 12, [m, m], { equation: 'ij,ij->' })[0])).toEqual([285]);
  });

  it('broadcasts ... dims of different ranks', () => {
    const a = { dtype: 'float32' as const, shape: [4, 1, 2, 3] };
    const b = { dtype: 'float32' as const, shape: [5, 3, 2] };
    expect(infer('Einsum', 12, [a, b], { equation: '...ij,...jk->...ik' })[0].shape).toEqual([4, 5, 2, 2]);
    expect(infer('Einsum', 12, [a, b], { equation: '...ij,...jk' })[0].shape).toEqual([4, 5, 2, 2]);
  });

  it('lowers float32 matmul-shaped equations to the gemm statement, others to loops', () => {
    const stmtKinds = (equation: string, dtype: DType, shapes: number[][]): string[] => {
      const node = {
        op: 'Einsum',
        domain: '',
        name: 'e',
        inputs: shapes.map((_, i) => `in${i}`),
        outputs: ['y'],
      };
      const ctx = {
        node: { ...node, attrs: { equation } },
        opset: 12,
        inputs: shapes.map((shape) => ({ dtype, shape })),
        consts: shapes.map(() => undefined),
      };
      const def = findOp('Einsum', '', 12)!;
      const [out] = def.infer(ctx);
      let id = 0;
      const buf = (d: DType, length: number) => ({ id: id++, dtype: d, length });
      const io = {
        inputs: shapes.map((s) =>
          buf(
            dtype,
            s.reduce((a, b) => a * b, 1),
          ),
        ),
        outputs: [
          buf(
            out.dtype,
            out.shape.reduce((a, b) => a * b, 1),
          ),
        ],
        scratch: buf,
      };
      const kinds: string[] = [];
      const walk = (stmts: Stmt[]) =>
        stmts.forEach((st) => (st.k === 'loop' ? walk(st.body) : kinds.push(st.k)));
      def.lower!(ctx, io).forEach((kernel) => walk(kernel.body));
      return kinds;
    };
    expect(
      stmtKinds('bij,bjk->bik', 'float32', [
        [2, 3, 4],
        [2, 4, 5],
      ]),
    ).toEqual(['gemm']);
    expect(
      stmtKinds('bij,bjk->bik', 'float64', [
        [2, 3, 4],
        [2, 4, 5],
      ]),
    ).not.toContain('gemm');
    expect(
      stmtKinds('bij,bjk->bki', 'float32', [
        [2, 3, 4],
        [2, 4, 5],
      ]),
    ).not.toContain('gemm');
    expect(
      stmtKinds('ii,ij->j', 'float32', [
        [3, 3],
        [3, 4],
      ]),
    ).not.toContain('gemm');
  });

  it('explains malformed equations', () => {
    const a = { dtype: 'float32' as const, shape: [2, 3] };
    expect(() => infer('Einsum', 12, [a], { equation: 'ij,jk->ik' })).toThrow(/names 2 operand\(s\)/);
    expect(() => infer('Einsum', 12, [a, a], { equation: 'ij,jk->ik' })).toThrow(/label 'j' has size 2/);
    expect(() => infer('Einsum', 12, [a], { equation: 'i1' })).toThrow(/has '1'/);
    expect(() => infer('Einsum', 12, [a], { equation: 'ijk' })).toThrow(/names 3 dims/);
    expect(() => infer('Einsum', 12, [a], { equation: 'ij->iz' })).toThrow(/'z' appears in no operand/);
  });
});

const oracleCases: Record<string, NodeCase> = {
  // float32 matmul-shaped equations take the gemm statement; the others the loop nest.
  'Einsum attention scores (gemm, strided B)': {
    op: 'Einsum',
    inputs: [f([2, 3, 9, 4]), f([2, 3, 10, 4])],
    attrs: { equation: { s: 'bhid,bhjd->bhij' } },
    outputs: ['float32'],
  },
  'Einsum transposed A matmul (gemm)': {
    op: 'Einsum',
    inputs: [f([6, 12]), f([6, 5])],
    attrs: { equation: { s: 'ki,kj->ij' } },
    outputs: ['float32'],
  },
  'Einsum outer and inner products (gemm, K or M·N of 1)': {
    op: 'Einsum',
    inputs: [f([7]), f([3])],
    attrs: { equation: { s: 'i,j' } },
    outputs: ['float32'],
  },
  'Einsum column label not last (loops)': {
    op: 'Einsum',
    inputs: [f([2, 3, 4]), f([2, 4, 5])],
    attrs: { equation: { s: 'bij,bjk->bki' } },
    outputs: ['float32'],
  },
  'TopK float64 axis 0 smallest': {
    op: 'TopK',
    inputs: [f([7, 3], 'float64'), { dtype: 'int64', dims: [1], weight: true, values: [4] }],
    attrs: { axis: { i: 0 }, largest: { i: 0 } },
    outputs: ['float64', 'int64'],
  },
  'Einsum batched bilinear with broadcast': {
    op: 'Einsum',
    inputs: [f([2, 3, 4]), f([4, 5]), f([3, 5])],
    attrs: { equation: { s: 'bij,jk,ik->bi' } },
    outputs: ['float32'],
  },
  'Einsum ellipsis in the middle': {
    op: 'Einsum',
    inputs: [f([2, 3, 4, 5]), f([5, 2])],
    attrs: { equation: { s: 'a...c,cd->a...d' } },
    outputs: ['float32'],
  },
};

describe('TopK and Einsum against onnxruntime', () => {
  for (const [name, c] of Object.entries(oracleCases))
    it(name, async () => {
      expect(await compareWithOrt(c)).toBeUndefined();
    });
});
