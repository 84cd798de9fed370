/**
 * Packed-panel conv timings, before/after (issue #18): 3×3 convs past conv-panels.ts's reduction on
 * mid-size maps (src/ops/nn/conv-packed.ts), shaped like the benchmark detector's and ResNet-50's layers and
 * at odd sizes, each alone; compiled by two Kiln source trees and timed in this one process (ab.ts).
 * GFLOP/s counts 2 flops per multiply-add, every tap, padding included. Run under
 * `node --experimental-wasm-relaxed-simd` to time the relaxed-SIMD modules. Times are this process's CPU
 * time per run by default (`--clock cpu`: the machine this was tuned on was shared), wall-clock with
 * `--clock wall`.
 *
 *   npx tsx scripts/perf/packed-conv.ts --before /path/to/other/kiln/checkout [--out DIR] [--filter REGEX]
 *     [--warm-s 1] [--blocks 8] [--block-runs 5] [--clock cpu|wall]
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { abMedians, convCase } from './ab.js';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    out: { type: 'string' },
    filter: { type: 'string' },
    'warm-s': { type: 'string', default: '1' },
    blocks: { type: 'string', default: '8' },
    'block-runs': { type: 'string', default: '5' },
    clock: { type: 'string', default: 'cpu' },
  },
});
if (!args.before) throw new Error('--before CHECKOUT is required (the baseline source tree)');
const out = args.out ?? mkdtempSync(join(tmpdir(), 'kiln-packed-conv-'));
mkdirSync(out, { recursive: true });

const cases = [
  () => convCase(16, 40, 160, 160, 3, 2), // dbnet-det stage 2, first conv
  () => convCase(40, 40, 80, 80, 3, 1), // dbnet-det stage 2
  () => convCase(40, 88, 80, 80, 3, 2),
  () => convCase(88, 88, 40, 40, 3, 1), // dbnet-det stage 3
  () => convCase(88, 184, 40, 40, 3, 2),
  () => convCase(184, 184, 20, 20, 3, 1), // dbnet-det stage 4 (2 panels + 4 per row)
  () => convCase(96, 24, 160, 160, 3, 1), // dbnet-mv3's neck
  () => convCase(64, 64, 56, 56, 3, 1), // resnet-50 stage 1
  () => convCase(128, 128, 28, 28, 3, 1), // resnet-50 stage 2
  () => convCase(256, 256, 14, 14, 3, 1), // resnet-50 stage 3 (1 panel + 6 per row)
  () => convCase(24, 30, 37, 61, 3, 1),
  () => convCase(96, 13, 45, 45, 3, 2),
]
  .map((make) => make())
  .filter((c) => !args.filter || new RegExp(args.filter).test(c.name));

const options = {
  before: args.before,
  after: resolve(import.meta.dirname, '../..'),
  out,
  warmMs: Number(args['warm-s']) * 1000,
  blocks: Number(args.blocks),
  blockRuns: Number(args['block-runs']),
  clock: args.clock as 'wall' | 'cpu',
};
console.log(
  'case'.padEnd(30),
  'before ms'.padStart(10),
  'after ms'.padStart(10),
  'before GF/s'.padStart(12),
  'after GF/s'.padStart(11),
  'speedup'.padStart(8),
);
for (const c of cases) {
  const { before, after } = await abMedians(c, options);
  const gflops = (ms: number) => (c.flops / ms / 1e6).toFixed(2);
  console.log(
    c.name.padEnd(30),
    before.toFixed(3).padStart(10),
    after.toFixed(3).padStart(10),
    gflops(before).padStart(12),
    gflops(after).padStart(11),
    (before / after).toFixed(2).padStart(8),
  );
}
