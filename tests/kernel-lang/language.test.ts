/** The kernel language: bodies traced into verified Kernel IR that computes what the JavaScript reference computes, and trace errors that name the user's line. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { BufRef } from '../../src/kernels/ir.js';
import { Memory, interpretKernels } from '../../src/kernels/interpret.js';
import { bindAttrs, outputShapes, traceKernel, type KernelDef } from '../../src/kernel-lang/kernel.js';
import {
  float,
  floats,
  int,
  ints,
  kernel,
  max,
  rsqrt,
  runReference,
  select,
  sigmoid,
  string,
} from '../../src/kernel-lang/index.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { kernelModel } from '../../src/compiler/kernel-model.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';

const THIS_FILE = import.meta.filename;
/** The 1-based line of this file holding `marker` (where a construct that must fail is written). */
const lineOf = (marker: string) =>
  readFileSync(THIS_FILE, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(marker) && !l.includes('lineOf(')) + 1;

const Swish = kernel({
  domain: 'com.example',
  op: 'Swish',
  inputs: { x: 'f32' },
  outputs: { y: 'f32' },
  attrs: { beta: float(1.0) },
  shape: ({ x }) => ({ y: x.shape }),
  body: ({ x, y, beta }, k) => k.forEach(y, (i) => y.set(i, x.at(i).mul(sigmoid(x.at(i).mul(beta))))),
});

/** y[r, c] = x[r, c] / sqrt(mean(x[r, :]²) + eps) · scale[c]: a reduction into a local per row. */
const RmsNorm = kernel({
  op: 'RmsNorm',
  inputs: { x: 'f32', scale: 'f32' },
  outputs: { y: 'f32' },
  attrs: { epsilon: float(1e-5) },
  shape: ({ x }) => ({ y: x.shape }),
  body: ({ x, scale, y, epsilon }, k) => {
    const [rows, cols] = x.shape;
    k.parallel(rows, (r) => {
      const meanSquare = k.sum(cols, (c) => x.at(r, c).mul(x.at(r, c))).div(cols);
      const inv = rsqrt(meanSquare.add(epsilon));
      k.loop(cols, (c) => y.set(r, c, x.at(r, c).mul(inv).mul(scale.at(c))));
    });
  },
});

/** Traces `def` for the given input shapes, runs the Kernel IR interpreter, returns the outputs. */
function interpretTraced(
  def: KernelDef,
  inputs: Record<string, { dims: number[]; data: Float32Array }>,
  attrValues = {},
) {
  const attrs = bindAttrs(def, attrValues);
  const inShapes = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, t.dims]));
  const outShapes = outputShapes(def, inShapes, attrs) as Record<string, number[]>;
  const shapes = { ...inShapes, ...outShapes };
  const bufs: Record<string, BufRef> = Object.fromEntries(
    Object.keys(shapes).map((n, id) => [
      n,
      { id, dtype: 'float32', length: shapes[n].reduce((a, b) => a * b, 1) },
    ]),
  );
  const traced = traceKernel(def, def.op, bufs, shapes, attrs);
  const mem = new Memory();
  for (const [n, t] of Object.entries(inputs)) (mem.get(bufs[n]) as Float32Array).set(t.data);
  interpretKernels([traced], mem);
  return {
    traced,
    outputs: Object.fromEntries(Object.keys(outShapes).map((n) => [n, mem.get(bufs[n]) as Float32Array])),
  };
}

const rand = seededRandom(13);
const tensor = (dims: number[]) => randomTensor(dims, rand, 4) as { dims: number[]; data: Float32Array };

describe('tracing', () => {
  it('Swish: the traced kernel (verified) and the JavaScript reference both compute x·sigmoid(beta·x)', () => {
    const x = tensor([3, 5]);
    for (const beta of [1, 1.7]) {
      const { traced, outputs } = interpretTraced(Swish, { x }, { beta });
      expect(traced.body).toHaveLength(1);
      const ref = runReference(Swish, { x }, { beta }).y;
      expect(ref.dims).toEqual([3, 5]);
      const formula = x.data.map((v) => v / (1 + Math.exp(-beta * v)));
      for (let i = 0; i < formula.length; i++) {
        expect(ref.data[i]).toBeCloseTo(formula[i], 5);
        expect(outputs.y[i]).toBeCloseTo(formula[i], 5);
      }
    }
  });

  it('RmsNorm: a reduction into a local per parallel row matches the reference and the formula', () => {
    const x = tensor([4, 6]);
    const scale = tensor([6]);
    const { outputs } = interpretTraced(RmsNorm, { x, scale });
    const ref = runReference(RmsNorm, { x, scale }).y.data;
    for (let r = 0; r < 4; r++) {
      const row = x.data.slice(r * 6, r * 6 + 6);
      const inv = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 6 + 1e-5);
      for (let c = 0; c < 6; c++) {
        const want = row[c] * inv * scale.data[c];
        expect(ref[r * 6 + c]).toBeCloseTo(want, 4);
        expect(outputs.y[r * 6 + c]).toBeCloseTo(want, 4);
      }
    }
  });

  it('tiled loops and select: indexes built from two loops are proved in bounds', () => {
    const Tiled = kernel({
      op: 'ReluTiled',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) =>
        k.parallel((x.size as number) / 4, (t) =>
          k.loop(4, (j) => {
            const i = t.mul(4).add(j);
            y.set(i, select(x.at(i).gt(0), x.at(i), max(x.at(i).mul(0.1), -1)));
          }),
        ),
    });
    const x = tensor([2, 8]);
    const { outputs } = interpretTraced(Tiled, { x });
    const ref = runReference(Tiled, { x }).y.data;
    const want = x.data.map((v) => (v > 0 ? v : Math.max(v * 0.1, -1)));
    want.forEach((w, i) => {
      expect(ref[i]).toBeCloseTo(w, 6);
      expect(outputs.y[i]).toBeCloseTo(w, 6);
    });
  });
});

describe('string attributes', () => {
  it('the shape function and the body get the string and branch on it at trace time', () => {
    const Reduce = kernel({
      op: 'ReduceRows',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      attrs: { mode: string('sum', ['sum', 'max']) },
      shape: ({ x }, { mode }) => ({ y: mode === 'max' ? [x.shape[0], 1] : [x.shape[0]] }),
      body: ({ x, y, mode }, k) => {
        const [rows, cols] = x.shape;
        k.parallel(rows, (r) =>
          y.set(r, mode === 'max' ? k.max(cols, (c) => x.at(r, c)) : k.sum(cols, (c) => x.at(r, c))),
        );
      },
    });
    const x = tensor([3, 4]);
    for (const mode of ['sum', 'max']) {
      const { outputs } = interpretTraced(Reduce, { x }, { mode });
      const ref = runReference(Reduce, { x }, { mode }).y;
      expect(ref.dims).toEqual(mode === 'max' ? [3, 1] : [3]);
      for (let r = 0; r < 3; r++) {
        const row = Array.from(x.data.slice(r * 4, r * 4 + 4));
        const want = mode === 'max' ? Math.max(...row) : row.reduce((a, b) => a + b);
        expect(ref.data[r]).toBeCloseTo(want, 5);
        expect(outputs.y[r]).toBeCloseTo(want, 5);
      }
    }
    expect(() => runReference(Reduce, { x }, { mode: 'mean' })).toThrow(
      `attribute 'mode' must be one of sum, max, got "mean"`,
    );
    // a kernel bundle's node carries it as an ONNX STRING attribute (kiln compile --kernel --attr mode=max)
    const node = parseOnnxModel(kernelModel(Reduce, { x: [3, 4] }, 'reduce', { mode: 'max' })).nodes[0];
    expect(node.attrs).toEqual({ mode: 'max' });
  });
});

describe('list attributes', () => {
  /** y[i] = Σ_j weights[j] · x[i + offsets[j]] (the read clamped into x): lists unrolled at trace time. */
  const Stencil = kernel({
    op: 'Stencil',
    inputs: { x: 'f32' },
    outputs: { y: 'f32' },
    attrs: { weights: floats([0.25, 0.5, 0.25]), offsets: ints([-1, 0, 1]) },
    shape: ({ x }, { weights, offsets }) => {
      if (weights.length !== offsets.length)
        throw new Error(`${weights.length} weights for ${offsets.length} offsets`);
      return { y: x.shape };
    },
    body: ({ x, y, weights, offsets }, k) =>
      k.forEach(y, (i) => {
        const last = (x.size as number) - 1;
        const terms = weights.map((w, j) => x.at(i.add(offsets[j]).max(0).min(last)).mul(w));
        y.set(
          i,
          terms.reduce((a, b) => a.add(b)),
        );
      }),
  });
  const x = { dims: [7], data: Float32Array.from([3, -1, 4, 1, -5, 9, 2]) };
  const stencil = (w: number[], o: number[]) =>
    Float32Array.from(x.data, (_, i) =>
      w.reduce((s, wj, j) => s + wj * x.data[Math.min(6, Math.max(0, i + o[j]))], 0),
    );

  it('at their defaults and given: traced and reference compute the stencil', () => {
    for (const [attrs, w, o] of [
      [{}, [0.25, 0.5, 0.25], [-1, 0, 1]],
      [{ weights: [1, -1], offsets: [0, 2] }, [1, -1], [0, 2]],
    ] as const) {
      const want = stencil([...w], [...o]);
      const ref = runReference(Stencil, { x }, attrs).y.data as Float32Array;
      const { outputs } = interpretTraced(Stencil, { x }, attrs);
      ref.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
      outputs.y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    }
  });

  it('are type-checked, and reach a kernel bundle as ONNX INTS and FLOATS', () => {
    expect(() => bindAttrs(Stencil, { weights: 0.5 })).toThrow(
      "attribute 'weights' is a list of floats, got 0.5",
    );
    expect(() => bindAttrs(Stencil, { offsets: [0, 1.5] })).toThrow(
      "attribute 'offsets' is a list of ints, got [0,1.5]",
    );
    expect(() => bindAttrs(Swish, { beta: [1, 2] })).toThrow("attribute 'beta' is a float, got [1,2]");
    expect(() => runReference(Stencil, { x }, { weights: [1] })).toThrow(
      'shape function: 1 weights for 3 offsets',
    );
    const model = kernelModel(Stencil, { x: [7] }, 'stencil', { weights: [0.5, 0.5], offsets: [0, 1] });
    expect(parseOnnxModel(model).nodes[0].attrs).toEqual({ weights: [0.5, 0.5], offsets: [0, 1] });
  });
});

describe('i32 kernels', () => {
  it('integer math with an int attribute, clamped indexes and k.if: traced and reference agree', () => {
    const ShiftClamp = kernel({
      op: 'ShiftClamp',
      inputs: { x: 'i32' },
      outputs: { y: 'i32' },
      attrs: { shift: int(2) },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y, shift }, k) =>
        k.forEach(y, (i) => {
          const j = i.add(shift).min((x.size as number) - 1); // a shifted read, clamped into the buffer
          k.if(
            x.at(j).lt(0),
            () => y.set(i, x.at(j).neg()),
            () => y.set(i, x.at(j).mul(3).rem(7)),
          );
        }),
    });
    const x = { dims: [9], data: Int32Array.from([5, -3, 8, 0, -7, 11, 2, -1, 4]) };
    const want = Int32Array.from(x.data, (_, i) => {
      const v = x.data[Math.min(i + 2, 8)];
      return v < 0 ? -v : (v * 3) % 7;
    });
    expect(runReference(ShiftClamp, { x }).y.data).toEqual(want);
    const bufs: Record<string, BufRef> = {
      x: { id: 0, dtype: 'int32', length: 9 },
      y: { id: 1, dtype: 'int32', length: 9 },
    };
    const traced = traceKernel(ShiftClamp, 'shift', bufs, { x: [9], y: [9] }, { shift: 2 });
    const mem = new Memory();
    (mem.get(bufs.x) as Int32Array).set(x.data);
    interpretKernels([traced], mem);
    expect(mem.get(bufs.y)).toEqual(want);
  });
});

describe('trace errors name the kernel, the file and the line of the construct', () => {
  const trace =
    (def: KernelDef, dims = [2, 3]) =>
    () =>
      interpretTraced(def, { x: tensor(dims) });
  const site = (marker: string) => `${THIS_FILE}:${lineOf(marker)}:`;

  it('a dtype mismatch', () => {
    const Bad = kernel({
      op: 'Bad',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) => k.forEach(y, (i) => y.set(i, x.at(i).add(i))), // dtype-mismatch
    });
    expect(trace(Bad)).toThrow(`kernel Bad (${site('// dtype-mismatch')}`);
    expect(trace(Bad)).toThrow('add of f32 and i32: convert one side with .toF32() or .toI32()');
    expect(() => runReference(Bad, { x: tensor([2]) })).toThrow('add of f32 and i32');
  });

  it('an index that can leave the buffer, and one whose bounds are unknown', () => {
    const Shifted = kernel({
      op: 'Shifted',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) => k.parallel(x.shape, (r, c) => y.set(r, c, x.at(r, c.add(1)))), // off-by-one
    });
    expect(trace(Shifted)).toThrow(`kernel Shifted (${site('// off-by-one')}`);
    expect(trace(Shifted)).toThrow(
      'x.at(): index 1 can take 1..3, which leaves dimension 1 of x (size 3): 0..2',
    );
    const Gather = kernel({
      op: 'Gather',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) => k.forEach(y, (i) => y.set(i, x.at(x.at(i).toI32()))), // data-index
    });
    expect(trace(Gather)).toThrow(`kernel Gather (${site('// data-index')}`);
    expect(trace(Gather)).toThrow('the bounds of index 0 are unknown at trace time');
  });

  it('a kernel value used as a JavaScript boolean, and a parallel loop inside a sequential one', () => {
    const Branchy = kernel({
      op: 'Branchy',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      // @ts-expect-error a Value is not a number: the type checker refuses it too
      body: ({ x, y }, k) => k.forEach(y, (i) => y.set(i, x.at(i) > 0 ? 1 : 0)), // js-compare
    });
    expect(trace(Branchy)).toThrow(`kernel Branchy (${site('// js-compare')}`);
    expect(trace(Branchy)).toThrow('a kernel value was used as a JavaScript number or boolean');
    const Nested = kernel({
      op: 'Nested',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y }, k) =>
        k.loop(x.shape[0], (r) => k.parallel(x.shape[1], (c) => y.set(r, c, x.at(r, c)))), // nested-parallel
    });
    expect(trace(Nested)).toThrow(`kernel Nested (${site('// nested-parallel')}`);
    expect(trace(Nested)).toThrow('k.parallel() inside a sequential loop');
  });

  it('JavaScript the language has no construct for fails at its line', () => {
    const Unknown = kernel({
      op: 'Unknown',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      shape: ({ x }) => ({ y: x.shape }),
      // @ts-expect-error Value has no softmax method
      body: ({ x, y }, k) => k.forEach(y, (i) => y.set(i, x.at(i).softmax())), // no-construct
    });
    expect(trace(Unknown)).toThrow(`kernel Unknown (${site('// no-construct')}`);
    expect(trace(Unknown)).toThrow('TypeError: x.at(...).softmax is not a function');
  });

  it('bad declarations and attributes', () => {
    expect(() =>
      kernel({
        domain: '',
        op: 'Relu',
        inputs: { x: 'f32' },
        outputs: { y: 'f32' },
        shape: ({ x }) => ({ y: x.shape }),
        body: () => {},
      }),
    ).toThrow('a kernel cannot take the default ONNX domain');
    const declareTwo = () =>
      // dup-name: the error points at the kernel() call on the next line
      kernel({
        op: 'Two',
        inputs: { x: 'f32' },
        outputs: { x: 'f32' },
        shape: ({ x }) => ({ x: x.shape }),
        body: () => {},
      });
    expect(declareTwo).toThrow(`kernel Two (${THIS_FILE}:${lineOf('// dup-name') + 1}:`);
    expect(declareTwo).toThrow("'x' names two parameters; inputs, outputs and attrs share one namespace");
    const Scaled = kernel({
      op: 'Scaled',
      inputs: { x: 'f32' },
      outputs: { y: 'f32' },
      attrs: { times: int() },
      shape: ({ x }) => ({ y: x.shape }),
      body: ({ x, y, times }, k) => k.forEach(y, (i) => y.set(i, x.at(i).mul(times.toF32()))),
    });
    expect(() => bindAttrs(Scaled, {})).toThrow("attribute 'times' is required (it has no default)");
    expect(() => bindAttrs(Scaled, { times: 1.5 })).toThrow("attribute 'times' is an int, got 1.5");
    expect(() => bindAttrs(Scaled, { count: 2 })).toThrow("unknown attribute 'count' (declared: times)");
    expect(
      runReference(Scaled, { x: { dims: [2], data: Float32Array.of(1, -2) } }, { times: 3 }).y.data,
    ).toEqual(Float32Array.of(3, -6));
  });
});
