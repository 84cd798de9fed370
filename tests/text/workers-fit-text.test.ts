/**
 * A text bundle that does not fit a Workers isolate even with int8 weights (#19): compile names the
 * `--dim` bound that fits with `--weights int8`, and the advice holds — the bundle compiled so passes
 * kiln deploy's memory check, two tokens more do not (the int8 kernels' code is estimated, on the safe side).
 */
import { expect, test } from 'vitest';
import { bertEncoder } from '../../scripts/bench-models.js';
import { compileModel, plannedMemory } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { workersBoundHint } from '../../src/deploy/workers-fit.js';
import { checkMemory, modelFootprint, WORKERS_LIMITS } from '../../src/deploy/cloudflare-limits.js';
import { wordPieceTokenizer } from '../helpers/text-model.js';

// an embedding table of 4000 × 64 float32 (1 MiB): most of the weights, as in a real text model
const bytes = bertEncoder({ layers: 1, hidden: 64, heads: 4, vocab: 4000 }).bytes;
const withSequenceUpTo = (max: number, weights?: 'int8'): CompileOptions => ({
  name: 'text',
  dims: { batch: { min: 1, max: 8 }, sequence: { min: 1, max } },
  tokenizer: wordPieceTokenizer(),
  task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
  relaxed: false,
  ...(weights && { weights }),
});

/** What kiln deploy --target cloudflare counts for the bundle alone in a Worker. */
const workerBytes = (files: BundleFiles, limits = WORKERS_LIMITS) => {
  const served = new Map<string, Uint8Array>([
    [files.manifest.wasm.file, files.wasm],
    ['weights.bin', files.weights],
  ]);
  const footprint = modelFootprint({ name: 'text', dir: '', manifest: files.manifest, files: served }, true);
  return checkMemory([footprint], limits).bytes;
};

test('names the --dim bound that fits with --weights int8 when int8 weights alone do not fit', async () => {
  const given = withSequenceUpTo(256);
  const fp32 = await compileModel(bytes, given);
  // an isolate that the float32 bundle does not fit at any sequence bound, the int8 one does at a short one
  const [fp32Shortest, int8Shortest, int8Longest] = [
    workerBytes(await compileModel(bytes, withSequenceUpTo(1))),
    workerBytes(await compileModel(bytes, withSequenceUpTo(1, 'int8'))),
    workerBytes(await compileModel(bytes, withSequenceUpTo(256, 'int8'))),
  ];
  const memoryBytes = Math.floor((fp32Shortest + int8Shortest) / 2);
  expect(int8Longest).toBeGreaterThan(memoryBytes);
  const limits = { ...WORKERS_LIMITS, memoryBytes };
  // kiln deploy refuses the float32 bundle and points at compile for bounds with int8 weights
  expect(() => workerBytes(fp32, limits)).toThrow(
    /recompile with lower bounds of the run-time dims its memory is planned at \(text: batch ≤ 8, sequence ≤ 256; kiln compile names bounds that fit, with --weights int8 too\)/,
  );

  const hint = workersBoundHint(
    fp32,
    given,
    (planned) => plannedMemory(bytes, { ...given, ...planned }),
    limits,
  );
  const named =
    /no bound of a single dim makes it fit; with --weights int8, --dim sequence=1\.\.(\d+) fits/.exec(
      hint ?? '',
    );
  expect(named, hint).not.toBeNull();
  const max = Number(named![1]);
  expect(max).toBeLessThan(256);
  // the advice holds: deploy's own check takes the bundle compiled so, and refuses two tokens more
  expect(workerBytes(await compileModel(bytes, withSequenceUpTo(max, 'int8')), limits)).toBeLessThanOrEqual(
    memoryBytes,
  );
  await expect(
    compileModel(bytes, withSequenceUpTo(max + 2, 'int8')).then((files) => workerBytes(files, limits)),
  ).rejects.toThrow(/over the [\d.]+ MiB a Workers isolate has/);
}, 300_000);
