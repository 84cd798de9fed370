/**
 * The deployment package alone: src/deploy/lambda-build.ts zips the handler and the bundle, the zip is
 * extracted into an empty folder, and a fresh Node process (no node_modules within reach) imports
 * index.mjs and answers a recorded Function URL event, as the Lambda Node.js runtime would.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLambda } from '../../src/deploy/lambda-build.js';
import { API_KEY } from '../serve/contract.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';
import { readEvent } from './events.js';

let mlp: CompiledBundle;
let work: string;

beforeAll(async () => {
  [mlp, work] = await Promise.all([compileMlp(), mkdtemp(join(tmpdir(), 'kiln-lambda-'))]);
});
afterAll(async () => {
  await Promise.all([mlp?.cleanup(), work && rm(work, { recursive: true, force: true })]);
});

const INVOKE = `
const { handler } = await import('./index.mjs');
const event = JSON.parse(await new Promise((done) => {
  let text = '';
  process.stdin.on('data', (chunk) => (text += chunk)).on('end', () => done(text));
}));
process.stdout.write(JSON.stringify(await handler(event)));
`;

/** Runs INVOKE in `cwd` with only PATH and the serving variables set; resolves with its stdout. */
function invoke(cwd: string, event: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, KILN_API_KEY: API_KEY, KILN_MAX_BODY_MB: '6' };
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', INVOKE],
      { cwd, env },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin!.end(JSON.stringify(event));
  });
}

it('the zipped handler answers a Function URL event from a fresh process', async () => {
  const zipPath = join(work, 'lambda.zip');
  const paths = await buildLambda(zipPath, [mlp.dir]);
  expect(paths).toEqual(
    expect.arrayContaining([
      'index.mjs',
      'models/mlp/manifest.json',
      'models/mlp/model.wasm',
      'models/mlp/weights.bin',
    ]),
  );

  const root = join(work, 'task');
  for (const [path, bytes] of Object.entries(unzipSync(await readFile(zipPath)))) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }

  const event = readEvent('function-url');
  const stdout = await invoke(root, event);

  const result = JSON.parse(stdout);
  expect(result.statusCode, result.body).toBe(200);
  const x = JSON.parse(event.body!).inputs[0].data;
  const expected = await mlp.model.run({
    x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(x) },
  });
  expect(JSON.parse(result.body).outputs[0].data).toEqual(Array.from(expected.probs.data as Float32Array));
});
