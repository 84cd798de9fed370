/**
 * Runs in a child process (so that V8 flags such as --experimental-wasm-relaxed-simd apply): loads a
 * bundle directory with a given variant, runs it once on the feeds of a JSON file and prints
 * `{ detected, variant, outputs }` or `{ error }` as one JSON line (non-finite floats as child-run.ts
 * writes them). Used by relaxed.test.ts and the ops tests' relaxed-SIMD runs.
 *   node [--experimental-wasm-relaxed-simd] --import tsx relaxed-child.ts DIR VARIANT FEEDS.json
 */
import { readFileSync } from 'node:fs';
import { loadModel, type Feed, type WasmVariant } from '../../src/runtime/index.js';
import { hasRelaxedSimd } from '../../src/runtime/relaxed-simd.js';
import { fromChildJson, toChildJson } from './child-run.js';

export interface ChildTensor {
  dtype: 'float32';
  dims: number[];
  data: number[];
}

export type ChildResult =
  | { detected: boolean; variant: string | undefined; outputs: Record<string, ChildTensor> }
  | { detected: boolean; error: string };

const [dir, variant, feedsFile] = process.argv.slice(2);
const feeds = fromChildJson<Record<string, ChildTensor>>(readFileSync(feedsFile, 'utf8'));
let result: ChildResult;
try {
  const model = await loadModel(dir, { variant: variant as WasmVariant | 'auto' });
  const out = await model.run(
    Object.fromEntries(
      Object.entries(feeds).map(([name, t]): [string, Feed] => [
        name,
        { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data) },
      ]),
    ),
  );
  result = {
    detected: hasRelaxedSimd(),
    variant: model.variant,
    outputs: Object.fromEntries(
      Object.entries(out).map(([name, t]) => [
        name,
        { dtype: 'float32', dims: t.dims, data: Array.from(t.data as Float32Array) },
      ]),
    ),
  };
  model.dispose();
} catch (err) {
  result = { detected: hasRelaxedSimd(), error: (err as Error).message };
}
process.stdout.write(toChildJson(result) + '\n');
