/** The serving app ships inside Workers and Lambdas: no compiler code, no Node-only API, small (DESIGN.md §2). */
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from './fixture.js';

const SRC = join(ROOT, 'src');

describe('serve boundaries', () => {
  it('runtime + serve + Hono bundle without compiler code or node: modules, under 150 KB minified', async () => {
    const result = await build({
      // what a Worker entry imports: the app and the runtime's loadModel
      stdin: {
        contents:
          "export { createApp } from './serve/app.ts'; export { loadModel } from './runtime/index.ts';",
        resolveDir: SRC,
        loader: 'ts',
      },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      write: false,
      metafile: true,
      // the runtime's directory reader imports node:fs/promises lazily; Workers pass bundles in memory
      external: ['node:*'],
    });
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(SRC, resolve(ROOT, p)));
    expect(inputs).toContain('runtime/load.ts');
    expect(
      inputs.filter((p) => /^(ir|frontend|passes|ops|kernels|codegen|compiler|cli|tensor-io)\//.test(p)),
    ).toEqual([]);
    expect(inputs.some((p) => p.includes('node_modules/hono/'))).toBe(true);
    const nodeModules = new Set(result.outputFiles[0].text.match(/\bnode:[\w/]+/g));
    expect([...nodeModules]).toEqual(['node:fs/promises']);
    const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
    console.log(`serve worker bundle (runtime + serve + Hono): ${(bytes / 1024).toFixed(1)} KB minified`);
    expect(bytes).toBeLessThan(150 * 1024);
  });
});
