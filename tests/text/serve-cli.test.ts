/** `kiln serve` of a text bundle, as its own process: it prints a /v1/embeddings example, which works as printed. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileText, type CompiledBundle } from '../serve/fixture.js';
import { startServeProcess, type ServeProcess } from '../serve/serve-process.js';

let text: CompiledBundle;
let server: ServeProcess;
beforeAll(async () => {
  text = await compileText();
  server = await startServeProcess([text.dir, '--port', '0']);
}, 120_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await text?.cleanup();
});

it('prints a curl command for /v1/embeddings that returns the embedding', async () => {
  await expect.poll(() => server.stdout()).toContain('/v1/embeddings');
  const command = server
    .stdout()
    .split('\n')
    .find((line) => line.includes('/v1/embeddings'))!
    .trim();
  expect(command).toBe(
    `curl -s '${server.url}/v1/embeddings' -H 'Content-Type: application/json' -d '{"model":"text","input":"hello world"}'`,
  );
  const { stdout } = await promisify(execFile)('bash', ['-c', command]);
  const answer = JSON.parse(stdout);
  expect(answer.data[0].embedding).toHaveLength(32);
  expect(Math.hypot(...answer.data[0].embedding)).toBeCloseTo(1, 5);
});
