/**
 * The engines `npm run bench` compares, behind one small interface: open (load) a model, run it on the
 * benchmark inputs, read the outputs. Shared by the timing process and the cold-start child, so both
 * measure exactly the same calls. The peers are imported on demand: a Kiln child never loads them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/runtime-node/index.js';
import { NODE_SERVING_LOAD } from '../../src/runtime-node/v8-tiers.js';
import type { Feed } from '../../src/runtime/types.js';
import type { TypedArray } from '../../src/ir/dtype.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { compareTensors } from '../compare.js';

/** `kiln` runs model.wasm (SIMD128), `kiln-relaxed` model.relaxed.wasm (where the engine has relaxed SIMD). */
export const ENGINE_IDS = ['kiln', 'kiln-relaxed', 'ort-web', 'ort-node'] as const;
export type EngineId = (typeof ENGINE_IDS)[number];

export const ENGINE_LABELS: Record<EngineId, string> = {
  kiln: 'Kiln',
  'kiln-relaxed': 'Kiln relaxed',
  'ort-web': 'ORT-web',
  'ort-node': 'ORT-node',
};

export interface OpenedEngine {
  run(): Promise<unknown>;
  outputs(): Promise<Record<string, HostTensor>>;
  dispose(): Promise<void>;
}

export interface EngineSource {
  /** the .onnx file (the peers load it) */
  onnx: string;
  /** the compiled Kiln bundle directory */
  bundle: string;
}

interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}

const fromOrt = (outputs: Record<string, OrtTensorLike>): Record<string, HostTensor> =>
  Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [
      name,
      { dtype: t.type as HostTensor['dtype'], dims: [...t.dims], data: t.data as TypedArray },
    ]),
  );

let ortWeb: Promise<typeof import('onnxruntime-web')> | undefined;
let ortNode: Promise<typeof import('onnxruntime-node')> | undefined;

/**
 * Import the engine's library (Kiln's runtime is a static import). Called before the load clock starts,
 * so `load` times the model's load alone for every engine; cold start counts the import too.
 */
export async function importEngine(engine: EngineId): Promise<void> {
  if (engine === 'ort-web') await (ortWeb ??= import('onnxruntime-web'));
  if (engine === 'ort-node') await (ortNode ??= import('onnxruntime-node'));
}

/** Load `engine` on the model; resolves once it can run (what the `load` figures time). `warmup`: Kiln loaded as it serves (NODE_SERVING_LOAD). */
export async function openEngine(
  engine: EngineId,
  source: EngineSource,
  feeds: Record<string, HostTensor>,
  options: { warmup?: boolean } = {},
): Promise<OpenedEngine> {
  if (engine === 'kiln' || engine === 'kiln-relaxed') {
    // a bundle without model.relaxed.wasm (nothing in it that relaxed SIMD speeds up) runs model.wasm
    const hasRelaxed = existsSync(join(source.bundle, 'model.relaxed.wasm'));
    const variant = engine === 'kiln-relaxed' && hasRelaxed ? 'relaxed' : 'simd128';
    // `warmup`: loaded as `kiln serve` and the Lambda handler load it
    const model = await loadModel(source.bundle, {
      backend: 'wasm',
      variant,
      ...(options.warmup && NODE_SERVING_LOAD),
    });
    const feed = feeds as Record<string, Feed>;
    return {
      run: () => model.run(feed),
      outputs: async () => (await model.run(feed)) as Record<string, HostTensor>,
      dispose: async () => model.dispose(),
    };
  }
  const bytes = readFileSync(source.onnx);
  if (engine === 'ort-web') {
    const ort = await (ortWeb ??= import('onnxruntime-web'));
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    return ortEngine(
      session,
      (t) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims),
      feeds,
    );
  }
  const ort = await (ortNode ??= import('onnxruntime-node'));
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return ortEngine(
    session,
    (t) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims),
    feeds,
  );
}

/** Either onnxruntime's session behind the engine interface, fed tensors made by its own `Tensor`. */
export function ortEngine<T>(
  session: { run(feed: Record<string, T>): Promise<unknown>; release(): Promise<void> },
  tensor: (t: HostTensor) => T,
  feeds: Record<string, HostTensor>,
): OpenedEngine {
  const feed = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, tensor(t)]));
  return {
    run: () => session.run(feed),
    outputs: async () => fromOrt((await session.run(feed)) as Record<string, OrtTensorLike>),
    dispose: () => session.release(),
  };
}

/** Run for at least `ms` and `minRuns` runs; returns each run's time. */
export async function runFor(engine: OpenedEngine, ms: number, minRuns: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end || times.length < minRuns) {
    const t0 = performance.now();
    await engine.run();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Where `engine`'s outputs differ from the oracle's (rtol 1e-3, atol 1e-4), or undefined. */
export async function differsFrom(oracle: OpenedEngine, engine: OpenedEngine): Promise<string | undefined> {
  const theirs = await oracle.outputs();
  const ours = await engine.outputs();
  for (const [name, expected] of Object.entries(theirs)) {
    if (!ours[name]) return `output ${name} missing`;
    const problem = compareTensors(ours[name], expected, 1e-3, 1e-4);
    if (problem) return `${name}: ${problem}`;
  }
  return undefined;
}
