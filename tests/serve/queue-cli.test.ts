/** `kiln serve --max-queue N --cors ORIGIN`: the flags reach the server, and bad values are usage errors. */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess } from './serve-process.js';
import { compileMlp, ROOT, type CompiledBundle } from './fixture.js';

let mlp: CompiledBundle;
beforeAll(async () => {
  mlp = await compileMlp();
});
afterAll(() => mlp?.cleanup());

describe('kiln serve --max-queue / --cors', () => {
  it('serves with CORS for the given origins', async () => {
    const { child, url, exited } = await startServeProcess([
      mlp.dir,
      '--port',
      '0',
      '--max-queue',
      '0',
      '--cors',
      'https://a.example',
      '--cors',
      'https://b.example',
    ]);
    try {
      for (const origin of ['https://a.example', 'https://b.example']) {
        const response = await fetch(`${url}/v2/health/live`, { headers: { Origin: origin } });
        expect(response.headers.get('Access-Control-Allow-Origin')).toBe(origin);
      }
      const other = await fetch(`${url}/v2/health/live`, { headers: { Origin: 'https://c.example' } });
      expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();
      // with no waiting room a lone request still runs at once
      const answer = await fetch(`${url}/v2/models/mlp/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(1) }],
        }),
      });
      expect(answer.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses a negative or fractional --max-queue', async () => {
    for (const bad of ['-1', '1.5']) {
      const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['bin/kiln.js', 'serve', mlp.dir, `--max-queue=${bad}`],
          { cwd: ROOT },
          (err, _o, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
        ),
      );
      expect(code).toBe(2);
      expect(stderr).toContain(`--max-queue must be an integer ≥ 0, got "${bad}"`);
    }
  });
});
