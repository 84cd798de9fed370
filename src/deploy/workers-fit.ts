/**
 * Which bound of a run-time dim to lower so that a bundle fits a Workers isolate (#11): a bundle's memory
 * is planned at the upper bounds of its run-time dims, and `kiln compile` names, per shape symbol (the
 * others kept), the largest upper bound whose plan fits 128 MB with the Worker's other memory
 * (checkMemory's sum), found by bisection over plans made without generating code.
 */
import type { BundleFiles } from '../bundle/files.js';
import type { DimBounds, ShapeArg } from '../compiler/options.js';
import { dimCounted, formatBounds, isSymbolic } from '../bundle/shape-dims.js';
import { HEADROOM_BYTES, mib, WORKERS_LIMITS } from './cloudflare-limits.js';

const PAGE = 65536;

/** The linear memory a plan needs with these bounds (compiler/compile.ts plannedMemoryBytes). */
export type PlanProbe = (bounds: {
  shapes?: Record<string, ShapeArg[]>;
  dims?: Record<string, DimBounds>;
}) => number;

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
 * each shape symbol the largest upper bound (at least its lower one) that fits; undefined when it fits
 * or has no run-time dims.
 */
export function workersBoundHint(
  files: BundleFiles,
  given: { shapes?: Record<string, ShapeArg[]>; dims?: Record<string, DimBounds> },
  probe: PlanProbe,
): string | undefined {
  const symbols = files.manifest.dims?.symbols ?? [];
  if (symbols.length === 0) return undefined;
  const fixed =
    files.wasm.byteLength + (files.relaxedWasm?.byteLength ?? 0) + files.weights.byteLength + HEADROOM_BYTES;
  const budget = WORKERS_LIMITS.memoryBytes - fixed;
  const atBounds = files.manifest.memory.totalBytes;
  if (atBounds <= budget) return undefined;
  const fits: string[] = [];
  for (const s of symbols) {
    // a symbol counting the steps of a stepped dim is bisected in steps, and the dim is named
    const { name, step } = dimCounted(files.manifest.inputs, s.name);
    // linear memory is whole 64 KiB pages
    const needs = (max: number) => Math.ceil(probe(lowered(files, given, name, max * step)) / PAGE) * PAGE;
    if (needs(s.min) > budget) continue;
    let [lo, hi] = [s.min, s.max]; // lo fits, hi does not
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (needs(mid) <= budget) lo = mid;
      else hi = mid;
    }
    fits.push(flagFor(files, given, name, s.min * step, lo * step, step));
  }
  const total = mib(atBounds + fixed);
  const way = fits.length > 0 ? `${fits.join(', or ')} fits` : 'no bound of a single dim makes it fit';
  return `the Worker would need about ${total} at the bounds of the run-time dims, over the ${mib(WORKERS_LIMITS.memoryBytes)} of a Workers isolate: ${way} (kiln deploy --target cloudflare will refuse this bundle)`;
}
