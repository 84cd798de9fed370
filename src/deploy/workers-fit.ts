/**
 * Which bound of a run-time dim to lower so that a bundle fits a Workers isolate (#11): a bundle's memory
 * is planned at the upper bounds of its run-time dims, and `kiln compile` names, per shape symbol (the
 * others kept), the largest upper bound whose plan fits 128 MB with the Worker's other memory
 * (checkMemory's sum), found by bisection over plans made without generating code. A bundle with float32
 * weights is also planned with `--weights int8` (#19: a text model's embedding table is most of its
 * weights), and the bounds that fit with int8 weights are named when those weights alone do not make it fit.
 */
import type { BundleFiles } from '../bundle/files.js';
import type { DimBounds, ShapeArg } from '../compiler/options.js';
import { dimCounted, formatBounds, isSymbolic } from '../bundle/shape-dims.js';
import {
  HEADROOM_BYTES,
  int8SavingBytes,
  mib,
  WORKERS_LIMITS,
  type WorkersLimits,
} from './cloudflare-limits.js';

/** The linear memory and weights.bin a plan needs with these bounds and weights (compiler/compile.ts plannedMemory). */
export type PlanProbe = (options: {
  shapes?: Record<string, ShapeArg[]>;
  dims?: Record<string, DimBounds>;
  weights?: 'int8';
}) => { memoryBytes: number; weightsBytes: number };

/** A symbol's bounds lowered to `max` wherever the options give them (`--dim` or `--shape`). */
function lowered(
  files: BundleFiles,
  given: { shapes?: Record<string, ShapeArg[]>; dims?: Record<string, DimBounds> },
  symbol: string,
  max: number,
) {
  const shapes = Object.fromEntries(
    Object.entries(given.shapes ?? {}).map(([input, dims]) => {
      const sig = files.manifest.inputs.find((i) => i.name === input);
      return [
        input,
        dims.map((d, axis) => {
          const declared = sig?.shape[axis];
          return typeof d !== 'number' && declared && isSymbolic(declared) && declared.name === symbol
            ? { ...d, max }
            : d;
        }),
      ];
    }),
  );
  const dims = Object.fromEntries(
    Object.entries(given.dims ?? {}).map(([name, b]) => [name, name === symbol ? { ...b, max } : b]),
  );
  return { shapes, dims };
}

/**
 * The int8 kernels' code beside the float32 module's, rounded up: 1.06× at sequence bounds 40–256 on the text
 * encoder of tests/text/workers-fit-text.test.ts since the float32 module has fused LayerNorm kernels, 1.09–1.33×
 * before (the module's size also varies with the bounds). Kept on the safe side of both, but tight enough that
 * the bound it names is the longest that fits, within the two tokens that test allows.
 */
const INT8_CODE_FACTOR = 1.35;

/** `--shape x=1,3,48,16..400` for each input holding the symbol, or `--dim width=16..400`. */
function flagFor(
  files: BundleFiles,
  given: { shapes?: Record<string, ShapeArg[]> },
  symbol: string,
  min: number,
  max: number,
  step: number,
) {
  const range = `${min}..${max}${step === 1 ? '' : `:${step}`}`;
  const shaped = Object.entries(given.shapes ?? {}).find(([input]) =>
    files.manifest.inputs
      .find((i) => i.name === input)
      ?.shape.some((d) => isSymbolic(d) && d.name === symbol),
  );
  if (!shaped) return `--dim ${symbol}=${range}`;
  const sig = files.manifest.inputs.find((i) => i.name === shaped[0])!;
  const dims = sig.shape.map((d) =>
    !isSymbolic(d) ? String(d) : d.name === symbol ? range : formatBounds(d),
  );
  return `--shape ${sig.name}=${dims.join(',')}`;
}

/**
 * A warning when the bundle's memory at its bounds would not fit a Workers isolate: the memory, and for
 * each shape symbol the largest upper bound (at least its lower one) that fits, with the bundle's weights
 * and, for float32 weights, with int8 ones; undefined when it fits or has no run-time dims. The plans are
 * made without generating code, so the code is counted as this bundle's wasm, and for int8 weights as
 * INT8_CODE_FACTOR times that.
 */
export function workersBoundHint(
  files: BundleFiles,
  given: { shapes?: Record<string, ShapeArg[]>; dims?: Record<string, DimBounds> },
  probe: PlanProbe,
  limits: WorkersLimits = WORKERS_LIMITS,
): string | undefined {
  const symbols = files.manifest.dims?.symbols ?? [];
  if (symbols.length === 0) return undefined;
  const wasmBytes = files.wasm.byteLength + (files.relaxedWasm?.byteLength ?? 0);
  // checkMemory's sum
  const worker = (plan: { memoryBytes: number; weightsBytes: number }, code = wasmBytes) =>
    plan.memoryBytes + code + plan.weightsBytes + HEADROOM_BYTES;
  const atBounds = worker({
    memoryBytes: files.manifest.memory.totalBytes,
    weightsBytes: files.weights.byteLength,
  });
  if (atBounds <= limits.memoryBytes) return undefined;
  const fits = (weights: { weights?: 'int8' }, code = wasmBytes) =>
    symbols.flatMap((s) => {
      // a symbol counting the steps of a stepped dim is bisected in steps, and the dim is named
      const { name, step } = dimCounted(files.manifest.inputs, s.name);
      const fitsAt = (max: number) =>
        worker(probe({ ...lowered(files, given, name, max * step), ...weights }), code) <= limits.memoryBytes;
      if (!fitsAt(s.min)) return [];
      let [lo, hi] = [s.min, s.max]; // lo fits, hi does not
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fitsAt(mid)) lo = mid;
        else hi = mid;
      }
      return [flagFor(files, given, name, s.min * step, lo * step, step)];
    });
  const asGiven = fits({});
  let way = asGiven.length > 0 ? `${asGiven.join(', or ')} fits` : 'no bound of a single dim makes it fit';
  if (int8SavingBytes(files.manifest) > 0) {
    const [int8, code] = [{ weights: 'int8' as const }, Math.ceil(wasmBytes * INT8_CODE_FACTOR)];
    if (worker(probe({ ...given, ...int8 }), code) <= limits.memoryBytes)
      way += '; with --weights int8 it fits at these bounds';
    else {
      const withInt8 = fits(int8, code);
      way += `; with --weights int8, ${withInt8.length > 0 ? `${withInt8.join(', or ')} fits` : 'no bound of a single dim makes it fit either'}`;
    }
  }
  return `the Worker would need about ${mib(atBounds)} at the bounds of the run-time dims, over the ${mib(limits.memoryBytes)} of a Workers isolate: ${way} (kiln deploy --target cloudflare will refuse this bundle)`;
}
