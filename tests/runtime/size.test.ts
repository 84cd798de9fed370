import { build } from 'esbuild';
import { expect, it } from 'vitest';

it('the runtime bundles small, with node:fs only in the lazily loaded directory chunk', async () => {
  const result = await build({
    entryPoints: ['src/runtime/index.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    splitting: true,
    external: ['node:*'],
    outdir: 'out',
    write: false,
    logLevel: 'silent',
  });
  const total = result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
  // 37 KB: 32 KB until run-time dims (the dims block's checks in bundle/verify.ts and layout.ts, and the
  // feeds' symbol values) added about 1 KB; the webgpu backend's choice of f16 kernels (shader-f16) and
  // the checks of halfFrom and f16Entry 0.8 KB (36.3 → 37.2 KB)
  expect(total).toBeLessThan(37 * 1024);
  const eager = result.outputFiles.filter((f) => !f.path.includes('directory-source'));
  expect(eager.length).toBeGreaterThan(0);
  for (const f of eager) expect(f.text, f.path).not.toContain('node:fs');
  expect(
    result.outputFiles.some((f) => f.path.includes('directory-source') && f.text.includes('node:fs')),
  ).toBe(true);
});
