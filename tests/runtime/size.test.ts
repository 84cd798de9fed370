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
  // 38 KB: 32 KB until run-time dims (the dims block's checks in bundle/verify.ts and layout.ts, and the
  // feeds' symbol values) added about 1 KB; data-dependent sizes (fed and computed symbols: their manifest
  // checks, reading a fed value, reading computed sizes back) 1.5 KB more (36345 → 37860 bytes)
  expect(total).toBeLessThan(38 * 1024);
  const eager = result.outputFiles.filter((f) => !f.path.includes('directory-source'));
  expect(eager.length).toBeGreaterThan(0);
  for (const f of eager) expect(f.text, f.path).not.toContain('node:fs');
  expect(
    result.outputFiles.some((f) => f.path.includes('directory-source') && f.text.includes('node:fs')),
  ).toBe(true);
});
