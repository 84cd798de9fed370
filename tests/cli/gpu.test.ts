import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { nodeGpu, WEBGPU_VERSION } from '../../src/cli/gpu.js';

describe("the CLI's WebGPU entry point (Dawn from the webgpu package)", () => {
  it('creates one entry point per process, which finds an adapter', async () => {
    const gpu = await nodeGpu();
    expect(await nodeGpu()).toBe(gpu);
    expect(await gpu.requestAdapter()).toBeTruthy();
  });

  it('names the version package.json pins', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(pkg.devDependencies.webgpu).toBe(WEBGPU_VERSION);
  });

  it('without the package, --backend webgpu fails with one line giving the install command', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          '--import',
          './tests/cli/without-webgpu.mjs',
          'bin/kiln.js',
          'run',
          'no-such-bundle',
          '--backend',
          'webgpu',
        ],
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      `kiln: the webgpu backend needs the 'webgpu' package (Dawn for Node), which is not installed: npm install webgpu@${WEBGPU_VERSION}\n`,
    );
  });
});
