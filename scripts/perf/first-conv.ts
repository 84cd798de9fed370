/**
 * First-conv timings, before/after (issue #18): convolutions over few input channels (RGB), as the first
 * layers of the benchmark CNNs and at odd sizes (kernel 5 and 7, widths not a multiple of 4, output
 * channels not a multiple of 8), each alone, then the CNN benchmark models whole; compiled by two Kiln
 * source trees and timed in this one process (ab.ts). GFLOP/s counts 2 flops per multiply-add, every
 * tap, padding included.
 *
 *   npx tsx scripts/perf/first-conv.ts --before /path/to/other/kiln/checkout [--out DIR] [--filter REGEX]
 *     [--warm-s 2] [--blocks 12] [--block-runs 10]
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_MODELS, benchFeeds } from '../bench-models.js';
import type { Feed } from '../../src/runtime/types.js';
import { abMedians, convCase, type AbCase } from './ab.js';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    out: { type: 'string' },
    filter: { type: 'string' },
    'warm-s': { type: 'string', default: '2' },
    blocks: { type: 'string', default: '12' },
    'block-runs': { type: 'string', default: '10' },
  },
});
if (!args.before) throw new Error('--before CHECKOUT is required (the baseline source tree)');
const out = args.out ?? mkdtempSync(join(tmpdir(), 'kiln-first-conv-'));
mkdirSync(out, { recursive: true });

function benchModel(name: string): AbCase & { flops?: number } {
  const m = BENCH_MODELS[name]();
  const feeds = benchFeeds(m.inputs) as Record<string, Feed>; // numeric: images, ids and masks
  return { name, bytes: m.bytes, feeds, shapes: Object.fromEntries(m.inputs.map((i) => [i.name, i.dims])) };
}

const cases = [
  () => convCase(3, 16, 48, 192, 3, 2), // mobilenetv3-cls Conv_2
  () => convCase(3, 32, 48, 320, 3, 2), // crnn-rec Conv_2
  () => convCase(3, 16, 640, 640, 3, 2), // dbnet-det Conv_2
  () => convCase(3, 24, 37, 53, 5, 1),
  () => convCase(3, 13, 61, 75, 7, 2),
  () => convCase(3, 64, 224, 224, 7, 2), // resnet's first conv
  () => benchModel('mobilenetv3-cls'),
  () => benchModel('crnn-rec'),
  () => benchModel('dbnet-det'),
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
  const gflops = (ms: number) => (c.flops ? (c.flops / ms / 1e6).toFixed(2) : '-');
  console.log(
    c.name.padEnd(30),
    before.toFixed(3).padStart(10),
    after.toFixed(3).padStart(10),
    gflops(before).padStart(12),
    gflops(after).padStart(11),
    (before / after).toFixed(2).padStart(8),
  );
}
