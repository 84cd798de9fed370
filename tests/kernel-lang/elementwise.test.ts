/**
 * The elementwise form of the kernel language, and the built-in float activations written in it: their
 * references compute the ONNX backend tests' outputs, the registry lowers them (fused into chains, on
 * float32 and float64) to code that computes what the references compute, and a bad `fn` is one error
 * naming its line.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { elementwise, elementwiseReference, type ElementwiseDef } from '../../src/kernel-lang/index.js';
import { traceElementwise } from '../../src/kernel-lang/elementwise.js';
import * as activations from '../../src/ops/elementwise/float-activation.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { readTensorProto } from '../../src/tensor-io/tensorproto.js';
import { specialize } from '../../src/passes/specialize.js';
import { eliminateDeadCode } from '../../src/passes/dce.js';
import { fuseElementwise } from '../../src/passes/fuse-elementwise.js';
import { evaluateProgram } from '../../src/codegen/wasm/evaluate.js';
import { findOp } from '../../src/ops/registry.js';
import { v } from '../../src/kernels/build.js';
import type { DType } from '../../src/ir/dtype.js';
import { buildModel, randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { runKiln } from '../helpers/ort-oracle.js';
import '../../src/ops/index.js';

const NODE = '/usr/include/onnx/backend/test/data/node';
const written: ElementwiseDef[] = Object.values(activations);

describe('the float activations written in the kernel language', () => {
  it.skipIf(!existsSync(NODE))("compute the ONNX backend tests' outputs as their references", () => {
    let checked = 0;
    for (const def of written) {
      const prefix = `test_${def.op.toLowerCase()}`;
      const dirs = readdirSync(NODE).filter(
        (d) => (d === prefix || d.startsWith(`${prefix}_`)) && !d.endsWith('_expanded'),
      );
      for (const dir of dirs) {
        const graph = parseOnnxModel(readFileSync(join(NODE, dir, 'model.onnx')));
        const attrs = graph.nodes[0].attrs as Record<string, number>;
        const x = readTensorProto(readFileSync(join(NODE, dir, 'test_data_set_0/input_0.pb')));
        const y = readTensorProto(readFileSync(join(NODE, dir, 'test_data_set_0/output_0.pb')));
        const got = Array.from(x.data as Float32Array, (e) => elementwiseReference(def, [e], attrs));
        got.forEach((g, i) => expect(g, `${dir}[${i}]`).toBeCloseTo((y.data as Float32Array)[i], 5));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('are what the registry lowers the ops to', () => {
    for (const def of written) {
      const op = findOp(def.op, '', 21)!;
      const node = { op: def.op, name: 'n', domain: '', inputs: ['x'], outputs: ['y'], attrs: {} };
      const ctx = { node, opset: 21, inputs: [{ dtype: 'float32' as DType, shape: [4] }], consts: [] };
      const x = v('x', 'f32');
      expect(op.elementwise!(ctx, [x]), def.op).toEqual(traceElementwise(def, [x]));
    }
  });

  it.each(['float32', 'float64'] as const)(
    'fuse into an elementwise chain and compute their references on %s',
    async (dtype) => {
      const t = dtype === 'float32' ? 'f32' : 'f64';
      const bytes = buildModel({
        opset: 18,
        inputs: [{ name: 'x', dtype, shape: [3, 8] }],
        outputs: [{ name: 'y', dtype, shape: [3, 8] }],
        nodes: [
          { op: 'HardSwish', inputs: ['x'], outputs: ['a'] },
          { op: 'Elu', inputs: ['a'], outputs: ['b'], attrs: { alpha: { f: 0.5 } } },
          { op: 'Mish', inputs: ['b'], outputs: ['y'] },
        ],
      });
      const fused = fuseElementwise(
        eliminateDeadCode(specialize(parseOnnxModel(bytes), { evaluate: evaluateProgram })),
      );
      expect(fused.nodes.map((n) => n.op)).toEqual(['Fused']);
      const f32 = randomTensor([3, 8], seededRandom(3)).data as Float32Array;
      const data = dtype === 'float32' ? f32 : Float64Array.from(f32);
      const got = (await runKiln(bytes, { x: { dtype, dims: [3, 8], data } })).y.data as Float64Array;
      const { HardSwish, Elu, Mish } = activations;
      data.forEach((e, i) => {
        const a = elementwiseReference(HardSwish, [e], {}, t);
        const b = elementwiseReference(Elu, [a], { alpha: 0.5 }, t);
        expect(got[i]).toBeCloseTo(elementwiseReference(Mish, [b], {}, t), dtype === 'float32' ? 5 : 12);
      });
    },
  );
});

describe('elementwise()', () => {
  it('gives fn a string attribute as a string to branch on at trace time; one outside oneOf is refused', () => {
    const { Gelu } = activations;
    const c = Math.sqrt(2 / Math.PI);
    for (const x of [-2.5, -0.3, 0.7, 3]) {
      const exact = elementwiseReference(Gelu, [x], {}, 'f64');
      const approx = elementwiseReference(Gelu, [x], { approximate: 'tanh' }, 'f64');
      expect(approx).toBeCloseTo(0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x ** 3))), 12);
      expect(Math.abs(approx - exact)).toBeLessThan(1e-3);
    }
    expect(() => elementwiseReference(Gelu, [1], { approximate: 'fast' })).toThrow(
      `attribute 'approximate' must be one of none, tanh, got "fast"`,
    );
    expect(() => elementwiseReference(Gelu, [1], { approximate: 1 })).toThrow(
      `attribute 'approximate' is a string, got 1`,
    );
  });

  it('refuses an fn that returns no float of the inputs’ type, naming the op and where it was declared', () => {
    const Truncate = elementwise({ op: 'Truncate', inputs: ['x'], fn: ({ x }) => x.toI32() }); // bad-result
    const line = readFileSync(import.meta.filename, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('// bad-result'));
    expect(() => traceElementwise(Truncate, [v('x', 'f32')])).toThrow(
      new RegExp(
        `kernel Truncate \\(.*elementwise\\.test\\.ts:${line + 1}:\\d+\\): fn must return a f32 value`,
      ),
    );
  });

  it('refuses mixing types in fn at the line that mixes them', () => {
    const Mixed = elementwise({
      op: 'Mixed',
      inputs: ['x'],
      attrs: {},
      fn: ({ x }) => x.add(x.toI32()), // mixes
    });
    const line = readFileSync(import.meta.filename, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('// mixes'));
    expect(() => elementwiseReference(Mixed, [1])).toThrow(
      new RegExp(`elementwise\\.test\\.ts:${line + 1}:\\d+\\): add of f32 and i32`),
    );
  });
});
