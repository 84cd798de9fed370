/**
 * CLI: npx tsx tests/ops/shape-harness/pipeline.ts REGEX — run matching ONNX node tests through the
 * real compiler + wasm runtime. Inputs the compiler says must be known at compile time are passed as
 * `consts` (what `kiln compile --const` does) and the compile is retried; the rest are fed at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileModel } from '../../../src/compiler/compile.js';
import { loadModel } from '../../../src/runtime/index.js';
import { readTensorProto } from '../../../src/tensor-io/index.js';
import { parseOnnxModel } from '../../../src/frontend/onnx/index.js';
import type { HostTensor } from '../../../src/ir/tensor.js';
import { compareTensors } from '../../../scripts/compare.js';
import { NODE_TESTS, SHAPE_TESTS } from './node-test.js';

async function runOne(name: string): Promise<string> {
  const dir = join(NODE_TESTS, name);
  const bytes = readFileSync(join(dir, 'model.onnx'));
  const g = parseOnnxModel(bytes);
  const data = join(dir, 'test_data_set_0');
  const read = (f: string) => readTensorProto(readFileSync(join(data, f))) as HostTensor;
  const inputNames = g.inputs.map((i) => i.name).filter((n) => !g.initializers.has(n));
  const inputs = new Map(inputNames.map((n, i) => [n, read(`input_${i}.pb`)]));
  const consts: Record<string, HostTensor> = {};
  let files;
  for (;;) {
    try {
      files = await compileModel(bytes, { consts });
      break;
    } catch (e) {
      const m = /\(input \d+, "([^"]*)"\) must be known at compile time/.exec((e as Error).message);
      if (!m || !inputs.has(m[1]) || consts[m[1]]) return `unsup ${(e as Error).message.split('\n')[0]}`;
      consts[m[1]] = inputs.get(m[1])!;
    }
  }
  const model = await loadModel(files, { backend: 'wasm' });
  try {
    const feeds = Object.fromEntries([...inputs].filter(([n]) => !consts[n]));
    const out = await model.run(feeds as never);
    const outFiles = readdirSync(data)
      .filter((f) => f.startsWith('output_'))
      .sort();
    for (const [i, sig] of model.outputs.entries()) {
      const problem = compareTensors(out[sig.name] as HostTensor, read(outFiles[i]), 1e-3, 1e-7);
      if (problem) return `fail  output "${sig.name}": ${problem}`;
    }
    return `pass  (consts: ${Object.keys(consts).join(', ') || 'none'})`;
  } catch (e) {
    return `fail  ${(e as Error).message.split('\n')[0]}`;
  } finally {
    model.dispose();
  }
}

const filter = process.argv[2] ? new RegExp(process.argv[2]) : SHAPE_TESTS;
let pass = 0;
let total = 0;
for (const name of readdirSync(NODE_TESTS)
  .filter((n) => filter.test(n))
  .sort()) {
  total++;
  const r = await runOne(name).catch((e: Error) => `fail  ${e.message.split('\n')[0]}`);
  if (r.startsWith('pass')) pass++;
  console.log(`${name}: ${r}`);
}
console.log(`${pass}/${total} passed`);
