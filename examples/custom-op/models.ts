/**
 * Two small ONNX models with com.example custom nodes, built with the repo's protobuf helpers — what a
 * model exported elsewhere with custom ops looks like. `npx tsx examples/custom-op/models.ts DIR`
 * writes them as DIR/swish.onnx, DIR/rms-norm.onnx and DIR/rms-norm-rows.onnx (its rows known only at run time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  encodeModel,
  modelProto,
  randomTensor,
  seededRandom,
  type ModelSpec,
} from '../../tests/helpers/onnx-builder.js';

/** The model with `com.example` imported at version 1 beside the default domain. */
const withExampleDomain = (spec: ModelSpec) => {
  const proto = modelProto(spec);
  return encodeModel({
    ...proto,
    opsetImport: [...proto.opsetImport!, { domain: 'com.example', version: 1 }],
  });
};

/** y = Swish(x; beta) + bias, x float32 [4, 32]; without `beta` the node leaves the attribute out. */
export function swishModel(beta?: number): Uint8Array {
  return withExampleDomain({
    name: 'swish-model',
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 32] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4, 32] }],
    initializers: [{ name: 'bias', tensor: randomTensor([32], seededRandom(1)) }],
    nodes: [
      {
        op: 'Swish',
        domain: 'com.example',
        name: 'swish',
        inputs: ['x'],
        outputs: ['h'],
        ...(beta !== undefined && { attrs: { beta: { f: beta } } }),
      },
      { op: 'Add', inputs: ['h', 'bias'], outputs: ['y'] },
    ],
  });
}

/**
 * y = RmsNormScale(MatMul(x, w), gamma), x float32 [rows, 64]: `rows` a number, or the name of a dim
 * known only at run time (compile with `--dim rows=1..16`).
 */
export function rmsNormModel(rows: number | string = 8): Uint8Array {
  const rand = seededRandom(2);
  return withExampleDomain({
    name: 'rms-norm-model',
    inputs: [{ name: 'x', dtype: 'float32', shape: [rows, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [rows, 48] }],
    initializers: [
      { name: 'w', tensor: randomTensor([64, 48], rand, 0.2) },
      { name: 'gamma', tensor: randomTensor([48], rand) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
      { op: 'RmsNormScale', domain: 'com.example', name: 'norm', inputs: ['h', 'gamma'], outputs: ['y'] },
    ],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? '.';
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'swish.onnx'), swishModel(1.5));
  writeFileSync(join(dir, 'rms-norm.onnx'), rmsNormModel());
  writeFileSync(join(dir, 'rms-norm-rows.onnx'), rmsNormModel('rows'));
  console.log(`wrote swish.onnx, rms-norm.onnx and rms-norm-rows.onnx (x [rows, 64]) in ${dir}`);
}
