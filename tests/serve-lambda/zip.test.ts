/**
 * The deployment package alone: src/deploy/lambda-build.ts zips the handler and the bundle, the zip is
 * extracted into an empty folder, and a fresh Node process (no node_modules within reach) imports
 * index.mjs and answers a recorded Function URL event, as the Lambda Node.js runtime would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { buildLambda } from '../../src/deploy/lambda-build.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';
import { readEvent } from './events.js';
import { extractZip, invoke } from './invoke.js';

let mlp: CompiledBundle;
let work: string;

beforeAll(async () => {
  [mlp, work] = await Promise.all([compileMlp(), mkdtemp(join(tmpdir(), 'kiln-lambda-'))]);
});
afterAll(async () => {
  await Promise.all([mlp?.cleanup(), work && rm(work, { recursive: true, force: true })]);
});

it('the zipped handler answers a Function URL event from a fresh process', async () => {
  const zipPath = join(work, 'lambda.zip');
  const { paths } = await buildLambda(zipPath, await readServedBundles([mlp.dir]));
  expect(paths).toEqual(
    expect.arrayContaining([
      'index.mjs',
      'models/mlp/manifest.json',
      'models/mlp/model.wasm',
      'models/mlp/model.relaxed.wasm',
      'models/mlp/weights.bin',
    ]),
  );

  const root = join(work, 'task');
  await extractZip(zipPath, root);
  const event = readEvent('function-url');
  const result = await invoke(root, event);

  expect(result.statusCode, result.body).toBe(200);
  const x = JSON.parse(event.body!).inputs[0].data;
  const expected = await mlp.model.run({
    x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(x) },
  });
  expect(JSON.parse(result.body).outputs[0].data).toEqual(Array.from(expected.probs.data as Float32Array));
});
