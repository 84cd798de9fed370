/**
 * Times every kernel of a bundle's run schedule: the instrumented module (./instrument.ts) is loaded
 * through the normal runtime path with the host's timing functions as imports, beside the plain
 * model.wasm; both are warmed by time, then run in turns `runs` times while the host sums the time of
 * every call site, so the kernels' total can be set against the plain run under the same conditions.
 *
 * Both modules are compiled by V8's optimizing tier up front (no Liftoff baseline): normally V8 starts
 * in the baseline tier and optimizes in a background thread, which on a busy machine takes many
 * seconds, so a profile would time a changing mix of tiers. `kiln bench`'s own timings keep the default.
 *
 * The clock is the wall clock, or with `clock: 'cpu'` this process's CPU time (../cpu-time.ts): on a machine
 * with more runnable processes than cores a kernel's wall time includes other processes' time slices, so
 * two kernels of one shape can differ by several times. Each run is also timed by both clocks, so the
 * report can say when the machine was busy.
 */
import { compileOptimized } from '../../runtime-node/v8-tiers.js';
import type { BundleFiles } from '../../bundle/files.js';
import type { KernelInfo, Manifest } from '../../bundle/manifest.js';
import { loadModel, type Feed, type Tensor } from '../../runtime/index.js';
import type { WasmVariant } from '../../runtime/types.js';
import { hasRelaxedSimd } from '../../runtime/relaxed-simd.js';
import { warmFor } from '../../runtime/timing.js';
import { processCpuClock } from '../cpu-time.js';

export const PROFILE_CLOCKS = ['wall', 'cpu'] as const;
export type ProfileClock = (typeof PROFILE_CLOCKS)[number];

const clocks: Record<ProfileClock, () => number> = { wall: () => performance.now(), cpu: processCpuClock.ms };

export interface KernelTime extends KernelInfo {
  /** calls per run (more than 1 for a kernel run in chunks; 0 for one never called) */
  calls: number;
  /** milliseconds per run */
  ms: number;
}

export interface KernelTimes {
  runs: number;
  /** the module that was timed: model.wasm (simd128) or model.relaxed.wasm */
  variant: WasmVariant;
  /** what the kernels and runs were timed by */
  clock: ProfileClock;
  /** the manifest's kernels, in run order, with their times */
  kernels: KernelTime[];
  /** calls from run() to functions that are no kernel of the table, ms per run */
  otherMs: number;
  /** mean time of one model.run() (inputs and outputs included) by `clock`, instrumented and plain */
  instrumentedRunMs: number;
  plainRunMs: number;
  /** the timed runs (both modules) by each clock, ms per run: wall far above CPU means a busy machine */
  wallRunMs: number;
  cpuRunMs: number;
}

/** The manifest's kernel table, or the one-line reason why this bundle cannot be profiled. */
export function kernelTableOf(manifest: Manifest): KernelInfo[] {
  const { kernels } = manifest;
  if (kernels === undefined)
    throw new Error(
      `bundle "${manifest.model.name}" has no kernel table (compiled by ${manifest.compiler} without profile metadata): compile it again with this kiln to profile it`,
    );
  const wellFormed =
    Array.isArray(kernels) &&
    kernels.every(
      (k) =>
        typeof k?.function === 'string' &&
        typeof k.name === 'string' &&
        typeof k.op === 'string' &&
        typeof k.flops === 'number' &&
        Array.isArray(k.outputs),
    );
  if (!wellFormed)
    throw new Error(`bundle "${manifest.model.name}" has a malformed kernel table in its manifest`);
  return kernels;
}

export async function timeKernels(
  files: BundleFiles,
  feeds: Record<string, Feed>,
  options: {
    runs: number;
    warmupMs: number;
    clock: ProfileClock;
    /** which module to time (default simd128); relaxed needs the bundle's model.relaxed.wasm */
    variant?: WasmVariant;
    progress?: (text: string) => void;
  },
): Promise<KernelTimes> {
  const now = clocks[options.clock];
  const { manifest } = files;
  const table = kernelTableOf(manifest);
  const variant = options.variant ?? 'simd128';
  const wasm = variant === 'relaxed' ? files.relaxedWasm : files.wasm;
  if (!wasm) throw new Error(`bundle "${manifest.model.name}" has no relaxed SIMD module to profile`);
  if (variant === 'relaxed' && !hasRelaxedSimd())
    throw new Error(
      'profiling model.relaxed.wasm needs relaxed SIMD, which this engine lacks (Node 20: run with --experimental-wasm-relaxed-simd)',
    );
  // binaryen is loaded only here: its heap would count in every `kiln bench`'s peak RSS (1.5 GB)
  const { attributeCallSites, instrumentRun, PROFILE_IMPORT_MODULE } = await import('./instrument.js');
  const instrumented = instrumentRun(wasm, manifest.wasm.exports.run);
  const siteKernel = attributeCallSites(instrumented.callees, table, instrumented.functions);
  const siteMs = new Float64Array(siteKernel.length);
  const siteCalls = new Float64Array(siteKernel.length);
  let enteredAt = 0;
  const imports = {
    [PROFILE_IMPORT_MODULE]: {
      enter: () => {
        enteredAt = now();
      },
      exit: (site: number) => {
        siteMs[site] += now() - enteredAt;
        siteCalls[site]++;
      },
    },
  };
  const [plainModule, profiledModule] = [wasm, instrumented.bytes].map((bytes) =>
    compileOptimized(bytes as Uint8Array<ArrayBuffer>),
  );
  // the chosen module is passed as the bundle's only wasm, so the runtime runs it as it is
  const plain = await loadModel(
    { manifest, wasm: plainModule, weights: files.weights },
    { backend: 'wasm', variant: 'simd128' },
  );
  const model = await loadModel(
    { manifest, wasm: profiledModule, weights: files.weights },
    { backend: 'wasm', variant: 'simd128', imports },
  );
  try {
    checkSameOutputs(await model.run(feeds), await plain.run(feeds));
    await warmFor(plain, feeds, options.warmupMs / 2, options.progress);
    await warmFor(model, feeds, options.warmupMs / 2, options.progress);
    siteMs.fill(0);
    siteCalls.fill(0);
    let [instrumentedMs, plainMs, wallMs, cpuMs] = [0, 0, 0, 0];
    const timeRun = async (m: typeof model) => {
      const [wall, cpu] = [performance.now(), processCpuClock.ms()];
      await m.run(feeds);
      const [wallRun, cpuRun] = [performance.now() - wall, processCpuClock.ms() - cpu];
      wallMs += wallRun;
      cpuMs += cpuRun;
      return options.clock === 'cpu' ? cpuRun : wallRun;
    };
    for (let i = 0; i < options.runs; i++) {
      options.progress?.(`profiling run ${i + 1}/${options.runs}`);
      plainMs += await timeRun(plain);
      instrumentedMs += await timeRun(model);
    }
    const kernels: KernelTime[] = table.map((k) => ({ ...k, calls: 0, ms: 0 }));
    let otherMs = 0;
    siteKernel.forEach((k, site) => {
      if (k < 0) otherMs += siteMs[site];
      else {
        kernels[k].ms += siteMs[site];
        kernels[k].calls += siteCalls[site];
      }
    });
    const runs = options.runs;
    for (const k of kernels) [k.ms, k.calls] = [k.ms / runs, k.calls / runs];
    return {
      runs,
      variant,
      clock: options.clock,
      kernels,
      otherMs: otherMs / runs,
      instrumentedRunMs: instrumentedMs / runs,
      plainRunMs: plainMs / runs,
      wallRunMs: wallMs / (2 * runs),
      cpuRunMs: cpuMs / (2 * runs),
    };
  } finally {
    model.dispose();
    plain.dispose();
  }
}

function checkSameOutputs(actual: Record<string, Tensor>, expected: Record<string, Tensor>): void {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    const bytes = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!got || !sameBytes(bytes(got), bytes(want)))
      throw new Error(
        `internal: the instrumented module computed a different output "${name}" than model.wasm; the profile would not be of this model`,
      );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
