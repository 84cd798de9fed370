/**
 * Cloudflare Workers limits and the checks `kiln deploy --target cloudflare` makes before uploading.
 * Numbers from https://developers.cloudflare.com/workers/platform/limits/ (checked 2026, DESIGN.md §4):
 * "Worker size" is 64 MiB uncompressed on every plan since 2026 (cloudflare-docs #31002; it was
 * 3 MB free / 10 MB paid after gzip, and wrangler 4.86 still rates its "Total Upload" against 3 MB),
 * "Memory" 128 MB per isolate on every plan, "CPU time" 10 ms per request on the free plan.
 */
import { WEIGHTS_FILE } from '../bundle/files.js';
import { MIN_COMPRESSED_BYTES, type Manifest } from '../bundle/manifest.js';
import { userBounds } from '../bundle/shape-dims.js';
import type { ServedBundle } from './bundles.js';
import { DeployError } from './types.js';

const MiB = 1024 * 1024;

export interface WorkersLimits {
  /** all modules of the Worker together, uncompressed */
  scriptBytes: number;
  /** the former free-plan limit after gzip: above it, a warning (accounts may still be held to it) */
  formerFreeGzipBytes: number;
  /** one isolate's memory */
  memoryBytes: number;
  /** CPU time per request on the free plan (paid: 30 s by default, up to 5 min) */
  freeCpuMs: number;
}

export const WORKERS_LIMITS: WorkersLimits = {
  scriptBytes: 64 * MiB,
  formerFreeGzipBytes: 3 * MiB,
  memoryBytes: 128 * MiB,
  freeCpuMs: 10,
};

/** JS heap beyond the models: the runtime, the Hono app, a request and its response in flight. */
export const HEADROOM_BYTES = 16 * MiB;

/** Where weights go: `KILN_CLOUDFLARE_WEIGHTS=script|r2`, or by default in the script when they fit. */
export type WeightsMode = 'auto' | 'script' | 'r2';

export function weightsModeFromEnv(env: NodeJS.ProcessEnv): WeightsMode {
  const value = env.KILN_CLOUDFLARE_WEIGHTS;
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'script' || value === 'r2') return value;
  throw new DeployError(`KILN_CLOUDFLARE_WEIGHTS must be auto, script or r2, got "${value}"`);
}

/**
 * `KILN_CLOUDFLARE_RELAXED=0` leaves each bundle's model.relaxed.wasm out of the Worker (see
 * worker-build.ts `relaxed`): a way out should a Workers runtime ever refuse relaxed SIMD.
 */
export function relaxedFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.KILN_CLOUDFLARE_RELAXED;
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new DeployError(`KILN_CLOUDFLARE_RELAXED must be 0 or 1, got "${value}"`);
}

/** What one model adds to a Worker. */
export interface ModelFootprint {
  name: string;
  /** the wasm instance's linear memory (manifest memory.totalBytes) */
  memoryBytes: number;
  /** model.wasm, plus model.relaxed.wasm when the Worker carries it */
  wasmBytes: number;
  weightsBytes: number;
  /** the upper bounds its memory is planned at, when it has run-time dims: `width ≤ 1024` */
  boundedDims?: string;
  /**
   * what `--weights int8` would take off weights.bin, and again off linear memory (the int8 kernels read
   * the weights as int8): ¾ of each float32 weight it compresses; 0 for a bundle compiled with --weights
   */
  int8SavingBytes: number;
}

/** What a bundle adds to a Worker that carries its model.relaxed.wasm or not (`relaxedInWorker`). */
export function modelFootprint(
  { name, manifest, files }: ServedBundle,
  relaxedInWorker: boolean,
): ModelFootprint {
  const bytes = (file: string | undefined) => (file === undefined ? 0 : (files.get(file)?.byteLength ?? 0));
  return {
    name,
    memoryBytes: manifest.memory.totalBytes,
    // both modules are in the script and compiled when it starts: the relaxed one counts too
    wasmBytes: bytes(manifest.wasm.file) + (relaxedInWorker ? bytes(manifest.wasm.relaxed?.file) : 0),
    weightsBytes: bytes(WEIGHTS_FILE),
    ...(manifest.dims && {
      // a dim bounded with a step is named as the user gave it, not by the symbol counting its steps
      boundedDims: manifest.dims.symbols
        .map((d) => {
          const { name, max } = userBounds(manifest.inputs, d);
          return `${name} ≤ ${max}`;
        })
        .join(', '),
    }),
    int8SavingBytes: int8SavingBytes(manifest),
  };
}

/** ModelFootprint's int8SavingBytes: ¾ of each float32 weight `--weights int8` compresses; 0 if compiled with --weights. */
export function int8SavingBytes(manifest: Manifest): number {
  return manifest.weights.some((w) => w.quant !== undefined || w.dtype === 'float16')
    ? 0
    : sum(
        manifest.weights
          .filter((w) => w.dtype === 'float32' && w.byteLength >= MIN_COMPRESSED_BYTES)
          .map((w) => w.byteLength * 0.75),
      );
}

/**
 * Weights in the script (Data modules) when everything fits the size limit, else in R2. `codeBytes`
 * is worker.js plus every model.wasm and model.relaxed.wasm: those are always in the script.
 */
export function placeWeights(
  mode: WeightsMode,
  codeBytes: number,
  models: ModelFootprint[],
  limits: WorkersLimits,
): 'script' | 'r2' {
  const weightsBytes = sum(models.map((m) => m.weightsBytes));
  if (codeBytes > limits.scriptBytes)
    throw new DeployError(
      `the Worker's code (worker.js and the models' .wasm) is ${mib(codeBytes)}, over the Workers script limit of ${mib(limits.scriptBytes)}, even with the weights in R2: deploy fewer bundles per Worker, or use --target lambda`,
    );
  const fits = codeBytes + weightsBytes <= limits.scriptBytes;
  if (mode === 'script' && !fits)
    throw new DeployError(
      `the Worker with its weights is ${mib(codeBytes + weightsBytes)}, over the Workers script limit of ${mib(limits.scriptBytes)}: keep the weights in R2 (unset KILN_CLOUDFLARE_WEIGHTS or set it to r2), or compile with --weights fp16 or int8`,
    );
  return mode === 'auto' ? (fits ? 'script' : 'r2') : mode;
}

/**
 * The isolate's memory at its peak, the first request: each model's linear memory and compiled
 * code (counted as the wasm's size), its weights (a Data module stays resident; an R2 object is held
 * while every model loads at once), and HEADROOM_BYTES. Refused when over the limit.
 */
export function checkMemory(
  models: ModelFootprint[],
  limits: WorkersLimits,
): { bytes: number; detail: string } {
  const linear = sum(models.map((m) => m.memoryBytes));
  const wasm = sum(models.map((m) => m.wasmBytes));
  const weights = sum(models.map((m) => m.weightsBytes));
  const bytes = linear + wasm + weights + HEADROOM_BYTES;
  const detail = `linear memory ${mib(linear)} + wasm ${mib(wasm)} + weights ${mib(weights)} + ${mib(HEADROOM_BYTES)} headroom`;
  const bounded = models.flatMap((m) => (m.boundedDims ? [`${m.name}: ${m.boundedDims}`] : []));
  const int8 = int8Advice(models, bytes, limits);
  // when int8 weights alone do not fit, compile names the bounds that fit with them too (workers-fit.ts)
  const withInt8 =
    int8 === '' && models.some((m) => m.int8SavingBytes > 0) ? ', with --weights int8 too' : '';
  const lower =
    bounded.length > 0
      ? `recompile with lower bounds of the run-time dims its memory is planned at (${bounded.join('; ')}; kiln compile names bounds that fit${withInt8}), `
      : '';
  if (bytes > limits.memoryBytes)
    throw new DeployError(
      `the Worker would need about ${mib(bytes)} of memory (${detail}), over the ${mib(limits.memoryBytes)} a Workers isolate has on every plan: ${int8}${lower}deploy each bundle to its own Worker, or use --target lambda (up to 10 GB)`,
    );
  return { bytes, detail };
}

/**
 * Which weight format fits, when int8 weights would bring the isolate under its memory: fp16 would not
 * (its weights are restored to float32 in linear memory beside the float16 ones).
 */
function int8Advice(models: ModelFootprint[], bytes: number, limits: WorkersLimits): string {
  const saving = sum(models.map((m) => m.int8SavingBytes));
  const int8Bytes = bytes - 2 * saving;
  if (saving === 0 || int8Bytes > limits.memoryBytes) return '';
  const weights = sum(models.map((m) => m.weightsBytes));
  const fp32 = models.filter((m) => m.int8SavingBytes > 0).map((m) => `"${m.name}"`);
  return `compile ${fp32.join(', ')} with --weights int8 (weights ${mib(weights)} → about ${mib(weights - saving)}, the Worker about ${mib(int8Bytes)}; fp16 weights are restored to float32 in memory and would not fit), or `;
}

export function mib(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
