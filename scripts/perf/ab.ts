/**
 * Before/after timing of ONNX models compiled by two Kiln source trees, run on the wasm backend in this one
 * process (DESIGN.md §5): each bundle warmed by time, then alternating blocks of runs; medians.
 * Used by the perf scripts beside it (dwconv.ts, first-conv.ts).
 *
 * `before` is a checkout (with node_modules) whose `bin/kiln.js` compiles the baseline bundles, e.g.
 * `git archive <commit> | tar -x -C /tmp/kiln-base && ln -s $PWD/node_modules /tmp/kiln-base/`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuClock } from '../../src/cli/cpu-time.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import type { Feed } from '../../src/runtime/types.js';
import type { IndexCheck } from '../../src/bundle/manifest.js';
import { upperBounds } from '../../src/bundle/shape-dims.js';
import { buildModel, randomTensor, seededRandom } from '../../tests/helpers/onnx-builder.js';

export interface AbCase {
  name: string;
  bytes: Uint8Array;
  feeds: Record<string, Feed>;
  /** fixed input shapes passed to `kiln compile --shape` (for models with symbolic dims) */
  shapes?: Record<string, number[]>;
}

export interface AbOptions {
  /** the baseline source tree */
  before: string;
  /** the measured source tree */
  after: string;
  /** where the ONNX files and bundles go */
  out: string;
  warmMs: number;
  blocks: number;
  blockRuns: number;
  /**
   * 'cpu': this thread's CPU time per run (src/cli/cpu-time.ts `cpuClock`) instead of wall-clock time, for a loaded
   * machine, where wall-clock medians of runs longer than a scheduler slice count other processes' turns
   */
  clock?: 'wall' | 'cpu';
}

/** One Conv (C → M, k×k, stride s, "same" padding) + Relu over [1, C, H, W]; its flops. */
export function convCase(
  C: number,
  M: number,
  H: number,
  W: number,
  k: number,
  s: number,
): AbCase & { flops: number } {
  const r = seededRandom(C * 31 + M + k);
  const p = (k - 1) >> 1;
  const [OH, OW] = [Math.floor((H + 2 * p - k) / s) + 1, Math.floor((W + 2 * p - k) / s) + 1];
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, H, W] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: [
      { name: 'w', tensor: randomTensor([M, C, k, k], r, Math.sqrt(2 / (C * k * k))) },
      { name: 'b', tensor: randomTensor([M], r, 0.05) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { strides: { ints: [s, s] }, pads: { ints: [p, p, p, p] } },
      },
      { op: 'Relu', inputs: ['c'], outputs: ['y'] },
    ],
  });
  const x = randomTensor([1, C, H, W], seededRandom(3));
  return {
    name: `conv ${C}→${M} ${k}×${k} s${s} ${H}×${W}`,
    bytes,
    feeds: { x: { dtype: 'float32', dims: x.dims, data: x.data as Float32Array } },
    flops: 2 * M * OH * OW * C * k * k,
  };
}

/** Compile in a child process (binaryen's own wasm would keep V8 busy tiering up in this one). */
function compile(tree: string, c: AbCase, out: string, tag: string): string {
  const slug = c.name.replace(/[^A-Za-z0-9]+/g, '_');
  const onnx = join(out, `${slug}.onnx`);
  writeFileSync(onnx, c.bytes);
  const dir = join(out, tag, slug);
  mkdirSync(dir, { recursive: true });
  const shapes = Object.entries(c.shapes ?? {}).flatMap(([name, dims]) => ['--shape', `${name}=${dims}`]);
  execFileSync(process.execPath, [join(tree, 'bin/kiln.js'), 'compile', onnx, '-o', dir, ...shapes], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dir;
}

/**
 * Feeds for a bundle's inputs at `fedDims` (else their upper bounds): float inputs seeded random values,
 * int64 ones token ids (and a mask of ones for an input named *mask*); the same for every call. Ids stay
 * below 30000 and within every bound the bundle checks them against (`indexChecks`: a smaller vocabulary).
 */
export function benchFeeds(
  inputs: Model['inputs'],
  fedDims: ReadonlyMap<string, number[]>,
  indexChecks: readonly IndexCheck[] = [],
): Record<string, Feed> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Object.fromEntries(
    inputs.map((input) => {
      const dims = fedDims.get(input.name) ?? upperBounds(input.shape);
      const n = dims.reduce((a, b) => a * b, 1);
      if (input.dtype === 'float32')
        return [input.name, { dtype: 'float32', dims, data: Float32Array.from({ length: n }, next) }];
      if (input.dtype !== 'int64')
        throw new Error(`input ${input.name}: ${input.dtype} is not fed by this script`);
      const idCount = Math.min(
        30000,
        ...indexChecks.filter((c) => c.input === input.name).flatMap((c) => c.bounds.map((b) => b.max + 1)),
      );
      const ids = /mask/i.test(input.name) ? () => 1n : (i: number) => BigInt((i * 7919) % idCount);
      return [
        input.name,
        { dtype: 'int64', dims, data: BigInt64Array.from({ length: n }, (_, i) => ids(i)) },
      ];
    }),
  );
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ms now by the chosen clock */
export const clockMs = (clock: AbOptions['clock']): number =>
  clock === 'cpu' ? cpuClock.ms() : performance.now();

async function timeRuns(
  model: Model,
  feeds: Record<string, Feed>,
  runs: number,
  clock: AbOptions['clock'],
): Promise<number[]> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = clockMs(clock);
    await model.run(feeds);
    t.push(clockMs(clock) - t0);
  }
  return t;
}

/** Median ms per run of `c` compiled by the `before` and the `after` tree. */
export async function abMedians(c: AbCase, o: AbOptions): Promise<{ before: number; after: number }> {
  process.stderr.write(`${c.name}: compiling…\n`);
  const models = [
    await loadModel(compile(o.before, c, o.out, 'before'), { backend: 'wasm' }),
    await loadModel(compile(o.after, c, o.out, 'after'), { backend: 'wasm' }),
  ];
  for (const m of models) {
    const t0 = performance.now();
    while (performance.now() - t0 < o.warmMs) await m.run(c.feeds);
  }
  const times: number[][] = [[], []];
  for (let block = 0; block < o.blocks; block++)
    for (const i of block % 2 ? [1, 0] : [0, 1])
      times[i].push(...(await timeRuns(models[i], c.feeds, o.blockRuns, o.clock)));
  models.forEach((m) => m.dispose());
  return { before: median(times[0]), after: median(times[1]) };
}

/** `--shape NAME=D0,D1,..` flags as input name → dims (split at the last `=`, as `kiln run --input`). */
export function shapeFlags(flags: readonly string[]): Map<string, number[]> {
  return new Map(
    flags.map((flag) => {
      const at = flag.lastIndexOf('=');
      return [
        flag.slice(0, at),
        flag
          .slice(at + 1)
          .split(',')
          .map(Number),
      ];
    }),
  );
}
