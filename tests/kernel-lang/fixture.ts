/**
 * The custom-op examples as test cases: each example model with seeded inputs and the outputs its
 * kernels' JavaScript reference gives (built-in parts computed in plain JavaScript beside it).
 */
import { resolve } from 'node:path';
import type { HostTensor } from '../../src/ir/tensor.js';
import type { KernelDef } from '../../src/kernel-lang/kernel.js';
import { runReference } from '../../src/kernel-lang/index.js';
import { loadKernelFile } from '../../src/kernel-lang/load.js';
import { rmsNormModel, swishModel } from '../../examples/custom-op/models.js';
import { randomTensor, seededRandom } from '../helpers/onnx-builder.js';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';

export const EXAMPLES = resolve(import.meta.dirname, '../../examples/custom-op');
export const SWISH_FILE = resolve(EXAMPLES, 'swish.ts');
export const RMS_NORM_FILE = resolve(EXAMPLES, 'rms-norm.ts');

export interface CustomOpCase {
  name: string;
  model: Uint8Array;
  kernels: KernelDef[];
  feeds: Record<string, HostTensor>;
  expected: Record<string, HostTensor>;
}

const f32 = (t: HostTensor) => t as HostTensor & { data: Float32Array };
const initializer = (model: Uint8Array, name: string) => f32(parseOnnxModel(model).initializers.get(name)!);

/** Swish (beta from the node, or its default) then a bias add. */
export async function swishCase(beta?: number): Promise<CustomOpCase> {
  const [{ def }] = await loadKernelFile(SWISH_FILE);
  const model = swishModel(beta);
  const x = f32(randomTensor([4, 32], seededRandom(3), 4));
  const bias = initializer(model, 'bias');
  const h = runReference(def, { x }, beta === undefined ? {} : { beta }).y;
  const y = h.data.map((v, i) => v + bias.data[i % 32]);
  return {
    name: `swish (beta ${beta ?? 'default'})`,
    model,
    kernels: [def],
    feeds: { x },
    expected: { y: { dtype: 'float32', dims: [4, 32], data: y } },
  };
}

/**
 * A MatMul then the fused RMSNorm + scale kernel, x [rows, 64]; `model` declares the rows (default:
 * `rows` itself; a name makes them a dim known only at run time).
 */
export async function rmsNormCase(rows = 8, model = rmsNormModel(rows)): Promise<CustomOpCase> {
  const [{ def }] = await loadKernelFile(RMS_NORM_FILE);
  const x = f32(randomTensor([rows, 64], seededRandom(4 + rows)));
  const w = initializer(model, 'w');
  const h = new Float32Array(rows * 48);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < 48; c++) {
      let s = 0;
      for (let j = 0; j < 64; j++) s += x.data[r * 64 + j] * w.data[j * 48 + c];
      h[r * 48 + c] = s;
    }
  const y = runReference(def, { x: { dims: [rows, 48], data: h }, scale: initializer(model, 'gamma') }).y;
  return {
    name: `rms-norm (${rows} rows)`,
    model,
    kernels: [def],
    feeds: { x },
    expected: { y: y as HostTensor },
  };
}
