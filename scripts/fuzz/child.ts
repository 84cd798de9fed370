/**
 * The fuzzer's sandbox: a process that compiles a model, or loads and runs a bundle, per message from
 * the parent (pool.ts), so a case that hangs or kills its process is counted instead of ending the run.
 */
import { verifyBundle } from '../../src/bundle/index.js';
import { compileModel } from '../../src/compiler/compile.js';
import { allocTensor } from '../../src/ir/tensor.js';
import { loadModel, type Feed, type Model, type Tensor } from '../../src/runtime/index.js';
import { seededRandom } from '../../tests/helpers/onnx-builder.js';
import { judgeError, type Outcome } from './outcomes.js';
import { upperBounds } from '../../src/bundle/shape-dims.js';

export type Job =
  /** compile the model (external data resolved in `baseDir`), then load and run it on zeros */
  | { type: 'model'; bytes: Uint8Array; baseDir: string }
  /** load the bundle in `dir` and run it on the inputs `reference` (an untouched bundle) was run on */
  | { type: 'bundle'; dir: string; reference: string };

export interface JobResult {
  outcome: Outcome;
  detail: string;
}

/** Models larger than this compile but are not run here. */
const MAX_RUN_BYTES = 256 << 20;

const failed = (stage: string, err: unknown): JobResult => {
  const { outcome, detail } = judgeError(err);
  return { outcome, detail: `${stage}: ${detail}` };
};

function zeroFeeds(model: Model): Record<string, Feed> {
  return Object.fromEntries(
    model.inputs.map((i) => [i.name, allocTensor(i.dtype, upperBounds(i.shape)) as Feed]),
  );
}

async function runModelJob(bytes: Uint8Array, baseDir: string): Promise<JobResult> {
  let files;
  try {
    files = await compileModel(bytes, { baseDir });
  } catch (err) {
    return failed('compile', err);
  }
  try {
    await verifyBundle(files);
  } catch (err) {
    return {
      outcome: 'unclear error',
      detail: `the compiled bundle fails verification: ${judgeError(err).detail}`,
    };
  }
  if (files.manifest.memory.totalBytes > MAX_RUN_BYTES)
    return { outcome: 'success', detail: 'compiled (too large to run here)' };
  let model: Model;
  try {
    model = await loadModel(files, { backend: 'wasm' });
  } catch (err) {
    return failed('load', err);
  }
  try {
    await model.run(zeroFeeds(model));
    return { outcome: 'success', detail: 'compiled and ran' };
  } catch (err) {
    return failed('run', err);
  } finally {
    model.dispose();
  }
}

/** Seeded inputs (floats in −1..1, other types zero) and the outputs of an untouched bundle, per bundle. */
const references = new Map<
  string,
  Promise<{ feeds: Record<string, Feed>; outputs: Record<string, Tensor> }>
>();

function reference(dir: string) {
  let entry = references.get(dir);
  if (!entry) {
    entry = (async () => {
      const model = await loadModel(dir, { backend: 'wasm' });
      const rand = seededRandom(1);
      const feeds = zeroFeeds(model);
      for (const feed of Object.values(feeds))
        if (feed.data instanceof Float32Array)
          for (let i = 0; i < feed.data.length; i++) feed.data[i] = rand() * 2 - 1;
      const outputs = await model.run(feeds);
      model.dispose();
      return { feeds, outputs };
    })();
    references.set(dir, entry);
  }
  return entry;
}

/**
 * Where two runs' outputs differ — their number, or in order each one's dtype, dims or a value beyond
 * float tolerance — or undefined. Names are not compared: a bundle may call its outputs what it likes.
 */
function difference(got: Record<string, Tensor>, want: Record<string, Tensor>): string | undefined {
  const [gotList, wantList] = [Object.values(got), Object.entries(want)];
  if (gotList.length !== wantList.length) return `${gotList.length} outputs instead of ${wantList.length}`;
  for (const [k, [name, b]] of wantList.entries()) {
    const a = gotList[k];
    if (a.dtype !== b.dtype || a.dims.join() !== b.dims.join())
      return `${name} is ${a.dtype}[${a.dims}] instead of ${b.dtype}[${b.dims}]`;
    for (let i = 0; i < b.data.length; i++) {
      const [x, y] = [Number(a.data[i]), Number(b.data[i])];
      if (!(Math.abs(x - y) <= 1e-4 + 1e-4 * Math.abs(y)) && !(Number.isNaN(x) && Number.isNaN(y)))
        return `${name}[${i}] is ${x} instead of ${y}`;
    }
  }
  return undefined;
}

async function runBundleJob(dir: string, referenceDir: string): Promise<JobResult> {
  const { feeds, outputs } = await reference(referenceDir);
  let model: Model;
  try {
    model = await loadModel(dir, { backend: 'wasm' });
  } catch (err) {
    return failed('load', err);
  }
  try {
    const diff = difference(await model.run(feeds), outputs);
    return diff
      ? { outcome: 'wrong output', detail: diff }
      : { outcome: 'success', detail: 'loads, same outputs' };
  } catch (err) {
    return failed('run', err);
  } finally {
    model.dispose();
  }
}

process.on('message', async ({ id, job }: { id: number; job: Job }) => {
  const result =
    job.type === 'model'
      ? await runModelJob(job.bytes, job.baseDir)
      : await runBundleJob(job.dir, job.reference);
  process.send!({ id, result });
});
