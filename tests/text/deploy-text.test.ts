/** `kiln deploy --dry-run` of a text bundle: its tokenizer.json ships to every target, and the Worker fits the limits. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { runKiln } from '../helpers/cli-main.js';
import { compileText, type CompiledBundle } from '../serve/fixture.js';

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
    /script: [\d.]+ KiB \([\d.]+ KiB gzip\) of the 64\.0 MiB Workers allow/,
  );
  expect(r.stdout + r.stderr).toMatch(/memory: about [\d.]+ MiB of 128\.0 MiB/);
  // the tokenizer.json text, as a string in the script: a vocabulary entry only it has
  const script = readFileSync(join(out, 'cloudflare/upload/worker.js'), 'utf8');
  expect(script).toContain('##dings');
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
