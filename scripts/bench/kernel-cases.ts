/**
 * Bench rows for the kernel examples (examples/custom-op/). onnxruntime cannot run their custom ops, so
 * each example is measured twice: Kiln running the kernel bundle (`kiln compile FILE.ts --kernel NAME`)
 * while the peers run the same computation decomposed into built-in ops, and every engine — Kiln too —
 * running that decomposition. Both models take the same inputs and name the same output.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModel, type NodeSpec } from '../../tests/helpers/onnx-builder.js';
import type { BenchInput } from './feeds.js';

export interface KernelBenchCase {
  name: string;
  about: string;
  /** the decomposed model (what the peers run, and Kiln in the `-decomposed` row) */
  onnx: string;
  inputs: BenchInput[];
  /** Kiln runs this kernel's bundle instead of compiling `onnx` */
  kernel?: { file: string; name: string };
}

const EXAMPLES = resolve(import.meta.dirname, '../../examples/custom-op');

interface Example {
  name: string;
  kernel: { file: string; name: string };
  decomposition: string;
  inputs: { name: string; dims: number[] }[];
  outputDims: number[];
  nodes: NodeSpec[];
}

const [ROWS, COLS] = [128, 768];
const EXAMPLES_BENCHED: Example[] = [
  {
    // Swish(x; beta 1, the default a kernel bundle takes) = x · sigmoid(beta · x)
    name: 'swish',
    kernel: { file: join(EXAMPLES, 'swish.ts'), name: 'Swish' },
    decomposition: 'Mul→Sigmoid→Mul',
    inputs: [{ name: 'x', dims: [256, 1024] }],
    outputDims: [256, 1024],
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['beta'], attrs: { value_float: { f: 1 } } },
      { op: 'Mul', inputs: ['x', 'beta'], outputs: ['bx'] },
      { op: 'Sigmoid', inputs: ['bx'], outputs: ['s'] },
      { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] },
    ],
  },
  {
    // RmsNormScale(x, scale; epsilon 1e-6) = x / sqrt(mean(x², last axis) + epsilon) · scale
    name: 'rms-norm',
    kernel: { file: join(EXAMPLES, 'rms-norm.ts'), name: 'RmsNormScale' },
    decomposition: 'Mul→ReduceMean→Add→Sqrt→Div→Mul',
    inputs: [
      { name: 'x', dims: [ROWS, COLS] },
      { name: 'scale', dims: [COLS] },
    ],
    outputDims: [ROWS, COLS],
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['eps'], attrs: { value_float: { f: 1e-6 } } },
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      {
        op: 'ReduceMean',
        inputs: ['sq'],
        outputs: ['ms'],
        attrs: { axes: { ints: [-1] }, keepdims: { i: 1 } },
      },
      { op: 'Add', inputs: ['ms', 'eps'], outputs: ['mse'] },
      { op: 'Sqrt', inputs: ['mse'], outputs: ['rms'] },
      { op: 'Div', inputs: ['x', 'rms'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'scale'], outputs: ['y'] },
    ],
  },
];

/** The two rows of each example; writes the decomposed models into `dir`. */
export function kernelBenchCases(dir: string): KernelBenchCase[] {
  return EXAMPLES_BENCHED.flatMap((e) => {
    const onnx = join(dir, `${e.name}-decomposed.onnx`);
    writeFileSync(
      onnx,
      buildModel({
        opset: 17,
        inputs: e.inputs.map((i) => ({ name: i.name, dtype: 'float32', shape: i.dims })),
        outputs: [{ name: 'y', dtype: 'float32', shape: e.outputDims }],
        nodes: e.nodes,
      }),
    );
    const inputs: BenchInput[] = e.inputs.map((i) => ({
      name: i.name,
      dtype: 'float32',
      dims: i.dims,
      fill: 'image',
    }));
    const kernelFile = `examples/custom-op/${e.kernel.file.split('/').pop()}`;
    return [
      {
        name: `${e.name}-kernel`,
        about: `Kiln: the ${kernelFile} bundle; ORT: ${e.decomposition}`,
        onnx,
        inputs,
        kernel: e.kernel,
      },
      { name: `${e.name}-decomposed`, about: `every engine: ${e.decomposition}`, onnx, inputs },
    ];
  });
}
