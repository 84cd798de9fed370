/** `kiln deploy --dry-run` of a text bundle: its tokenizer.json ships to every target, and the Worker fits the limits. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { runKiln } from '../helpers/cli-main.js';
import { compileText, type CompiledBundle } from '../serve/fixture.js';
import { compileModel } from '../../src/compiler/compile.js';
import { writeBundle } from '../../src/bundle/node.js';
import { readServedBundles } from '../../src/deploy/bundles.js';
import { checkMemory, modelFootprint, WORKERS_LIMITS } from '../../src/deploy/cloudflare-limits.js';
import { bertBaseText, textShapes } from '../helpers/text-model.js';

let text: CompiledBundle;
let out: string;
beforeAll(async () => {
  [text, out] = await Promise.all([compileText(), mkdtemp(join(tmpdir(), 'kiln-text-deploy-'))]);
});
afterAll(async () => {
  await text?.cleanup();
  await rm(out, { recursive: true, force: true });
});

const deploy = (target: string) =>
  runKiln(['deploy', text.dir, '--target', target, '--dry-run', '--out', join(out, target)]);
const tokenizer = () => readFileSync(join(text.dir, 'tokenizer.json'), 'utf8');

it('cloudflare: the tokenizer is in the Worker script, which fits the Workers limits and says so', async () => {
  const r = await deploy('cloudflare');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).toMatch(
    /script: [\d.]+ [KM]iB \([\d.]+ [KM]iB gzip\) of the 64\.0 MiB Workers allow/,
  );
  expect(r.stdout + r.stderr).toMatch(/memory: about [\d.]+ MiB of 128\.0 MiB/);
  // the tokenizer.json text, as a string in the script: a vocabulary entry only it has
  const script = readFileSync(join(out, 'cloudflare/upload/worker.js'), 'utf8');
  expect(script).toContain('[unused993]');
  // with the tokenizer library, which only Workers serving a text model carry (worker-build.ts)
  expect(script).toContain('BertPreTokenizer');
});

it('lambda and gpu: tokenizer.json ships beside the model', async () => {
  const lambda = await deploy('lambda');
  expect(lambda.code, lambda.stderr).toBe(0);
  const zip = new AdmZip(join(out, 'lambda/lambda.zip'));
  expect(zip.readAsText('models/text/tokenizer.json')).toBe(tokenizer());
  const gpu = await deploy('gpu');
  expect(gpu.code, gpu.stderr).toBe(0);
  expect(existsSync(join(out, 'gpu/gpu-server/models/text/tokenizer.json'))).toBe(true);
});

it('cloudflare: a text bundle over the isolate memory with float32 weights is told to compile with --weights int8, which fits', async () => {
  const [fp32] = await readServedBundles([text.dir]);
  const footprint = modelFootprint(fp32, true);
  expect(footprint.int8SavingBytes).toBeGreaterThan(0);
  const { bytes } = checkMemory([footprint], WORKERS_LIMITS);
  // an isolate between the int8 bundle's estimate and the float32 bundle's need
  const limits = { ...WORKERS_LIMITS, memoryBytes: bytes - footprint.int8SavingBytes };
  expect(() => checkMemory([footprint], limits)).toThrow(
    /over the [\d.]+ MiB a Workers isolate has on every plan: compile "text" with --weights int8 \(weights [\d.]+ [KM]iB → about [\d.]+ [KM]iB, the Worker about [\d.]+ MiB; fp16 weights are restored to float32 in memory and would not fit\), or deploy each bundle to its own Worker/,
  );
  // the advice holds: the same model compiled with --weights int8 fits those limits
  const dir = join(out, 'int8');
  await writeBundle(
    dir,
    await compileModel(bertBaseText().encoder, {
      name: 'text',
      shapes: textShapes(2, 16),
      tokenizer: bertBaseText().tokenizer,
      task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
      weights: 'int8',
      relaxed: false,
    }),
  );
  const [int8] = await readServedBundles([dir]);
  const int8Footprint = modelFootprint(int8, true);
  expect(int8Footprint.int8SavingBytes).toBe(0);
  expect(checkMemory([int8Footprint], limits).bytes).toBeLessThanOrEqual(limits.memoryBytes);
});
