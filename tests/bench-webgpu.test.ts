/**
 * `npm run bench -- --backend webgpu` (scripts/bench.ts, scripts/bench/webgpu.ts) on models/mlp.onnx
 * through the real script: Kiln's webgpu bundle and onnxruntime-web's WebGPU EP both run on Dawn, agree
 * with onnxruntime-node, and the row names the adapter, flagged where it is a CPU emulation. No timing
 * is asserted beyond each engine having timed runs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { describeAdapter, nodeGpu } from '../src/cli/gpu.js';

const ROOT = resolve(import.meta.dirname, '..');
const EMULATION = '(CPU emulation — not performance)';

interface GpuResult {
  model: string;
  adapter: string;
  agrees_with_ort_node: Record<string, string>;
  steady: Record<string, { median_ms: number; runs: number }>;
}

it('bench --backend webgpu times Kiln webgpu beside ORT-web WebGPU on the named adapter', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-webgpu-'));
  try {
    const json = join(dir, 'bench.json');
    const args = [
      '--import',
      'tsx',
      'scripts/bench.ts',
      '--backend',
      'webgpu',
      '--quick',
      '--filter',
      '^mlp$',
    ];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (done) =>
        execFile(
          process.execPath,
          [...args, '--warm-ms', '100', '--block-ms', '100', '--json', json],
          { cwd: ROOT, env: { ...process.env, TSX_DISABLE_CACHE: '1' } },
          (err, stdout, stderr) => done({ code: err ? Number(err.code) : 0, stdout, stderr }),
        ),
    );
    expect(code, stderr).toBe(0);
    const { results } = JSON.parse(await readFile(json, 'utf8')) as { results: GpuResult[] };
    expect(results.map((r) => r.model)).toEqual(['mlp']);
    const [mlp] = results;
    expect(mlp.agrees_with_ort_node).toEqual({ 'kiln-webgpu': 'yes', 'ort-web-webgpu': 'yes' });
    for (const engine of ['kiln-webgpu', 'ort-web-webgpu']) {
      expect(mlp.steady[engine].runs, engine).toBeGreaterThanOrEqual(4);
      expect(mlp.steady[engine].median_ms, engine).toBeGreaterThan(0);
    }
    const adapter = (await describeAdapter(await nodeGpu()))!;
    expect(mlp.adapter).toBe(adapter.software ? `${adapter.description} ${EMULATION}` : adapter.description);
    const row = stdout.split('\n').find((line) => line.startsWith('| mlp '));
    expect(row).toContain(mlp.adapter);
    expect(row).toMatch(/\| yes \| yes \|$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 600_000);
