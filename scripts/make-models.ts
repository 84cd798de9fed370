/** Regenerate the small sample models in models/ (deterministic: same bytes every run). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { attentionModel, cnnModel, mlpModel } from '../tests/helpers/models.js';

const dir = resolve(import.meta.dirname, '../models');
mkdirSync(dir, { recursive: true });
for (const [name, build] of [
  ['mlp', mlpModel],
  ['cnn', cnnModel],
  ['attention', attentionModel],
] as const) {
  writeFileSync(resolve(dir, `${name}.onnx`), build());
  console.log(`models/${name}.onnx`);
}
