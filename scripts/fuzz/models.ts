/**
 * The model campaign: seeded mutations of small real models (tests/helpers/mutate-model.ts: byte flips,
 * truncation, hostile varints, cycles, bad dtypes, huge dims, external data escaping the directory,
 * subgraphs nested thousands deep...), each compiled, loaded and run in a sandbox child.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutateModel } from '../../tests/helpers/mutate-model.js';
import { attentionModel, cnnModel, mlpModel } from '../../tests/helpers/models.js';
import { seededRandom } from '../../tests/helpers/onnx-builder.js';
import type { JobPool } from './pool.js';
import type { CaseResult } from './outcomes.js';

/** ONNX backend tests with subgraphs (If, Loop, Scan), used as seeds when libonnx-testdata is installed. */
const NODE_TESTS = '/usr/include/onnx/backend/test/data/node';
const CONTROL_FLOW = ['test_if', 'test_loop11', 'test_scan9_sum'];

function seedModels(): Uint8Array[] {
  const seeds = [mlpModel(), cnnModel(), attentionModel()];
  for (const test of CONTROL_FLOW) {
    const file = join(NODE_TESTS, test, 'model.onnx');
    if (existsSync(file)) seeds.push(new Uint8Array(readFileSync(file)));
  }
  return seeds;
}

export async function fuzzModels(
  count: number,
  seed: number,
  pool: JobPool,
  workDir: string,
  onResult: (result: CaseResult) => void,
): Promise<void> {
  const seeds = seedModels();
  // a real file for external-data locations that stay inside the model's directory
  writeFileSync(join(workDir, 'w.bin'), new Uint8Array(4096));
  const rand = seededRandom(seed);
  const cases = Array.from({ length: count }, (_, i) => mutateModel(seeds[i % seeds.length], rand));
  await pool.runAll(
    cases,
    ({ bytes }) => ({ type: 'model', bytes, baseDir: workDir }),
    (result, i) => onResult({ id: `models #${i}`, kind: cases[i].kind, ...result }),
  );
}
