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
  // 41 KB: 32 KB until run-time dims (the dims block's checks in bundle/verify.ts and layout.ts, and the
  // feeds' symbol values) added about 1 KB; data-dependent sizes (fed and computed symbols) 1.5 KB; run-time
  // output quotients (a strided conv's width), int8 scales' places in weights.bin, the load options
  // (compileWasm, pages touched at load, warm-up through the request path) 1.5 KB; shader-f16 (the choice
  // of f16 kernels, the checks of halfFrom and f16Entry) 0.8 KB (36.3 → 40.1 KB); sizes read from fed
  // values (#11: Unsqueeze/Squeeze axes, Slice plans, Resize scales, Expand/Tile, Range, Pad, OneHot depth —
  // their resolution and refusals in bundle/shape-dims.ts, their manifest checks in verify.ts) 6.7 KB (45.7 KB);
  // STFT frame counts fed, the webgpu readback of counted sizes, the whole request path primed at load and
  // warm-up of value-shaped bundles 2 KB (47.7 KB); indices fed at run time checked before the run (their
  // check in bundle/fed-indices.ts, its manifest check in verify.ts) 1.2 KB (48.9 KB); input copies reused across
  // runs and the library's default warm-up 0.5 KB (49.4 KB)
  expect(total).toBeLessThan(50 * 1024);
  const eager = result.outputFiles.filter((f) => !f.path.includes('directory-source'));
  expect(eager.length).toBeGreaterThan(0);
  for (const f of eager) expect(f.text, f.path).not.toContain('node:fs');
  expect(
    result.outputFiles.some((f) => f.path.includes('directory-source') && f.text.includes('node:fs')),
  ).toBe(true);
});
