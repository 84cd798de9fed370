/**
 * Depthwise conv timings, before/after: MobileNet-like depthwise layers (Conv → Relu, fused) and a small
 * MobileNetV3-style classifier on a 48×192 input, compiled by two Kiln source trees and run on the wasm
 * backend in this one process, interleaved (DESIGN.md §5: each bundle warmed by time, then alternating
 * blocks; medians), plus two 3×3 pools. GFLOP/s counts 2 flops per multiply-add of the convs (every tap,
 * padding included) and the final Gemm, and 1 per pool tap.
 *
 *   npx tsx scripts/perf/dwconv.ts --before /path/to/other/kiln/checkout [--out DIR] [--filter REGEX]
 *     [--warm-s 2] [--blocks 12] [--block-runs 10]
 *
 * `--before` is a checkout (with node_modules) whose `bin/kiln.js` compiles the baseline bundles (ab.ts).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../../tests/helpers/onnx-builder.js';
import type { HostTensor } from '../../src/ir/tensor.js';
import { abMedians } from './ab.js';

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
const root = resolve(import.meta.dirname, '../..');
const out = args.out ?? mkdtempSync(join(tmpdir(), 'kiln-dwconv-'));
mkdirSync(out, { recursive: true });

interface Bench {
  name: string;
  bytes: Uint8Array;
  input: number[];
  flops: number;
}

/** Graph builder: conv layers (optionally depthwise) with Relu, accumulating their flops. */
class Net {
  nodes: NodeSpec[] = [];
  inits: { name: string; tensor: HostTensor }[] = [];
  flops = 0;
  private n = 0;
  private rand = seededRandom(5);
  constructor(
    public value: string,
    public shape: number[],
  ) {}

  conv(M: number, k: number, opts: { stride?: number; depthwise?: boolean; relu?: boolean } = {}): this {
    const [N, C, H, W] = this.shape;
    const s = opts.stride ?? 1;
    const group = opts.depthwise ? C : 1;
    const id = this.n++;
    const p = (k - 1) >> 1;
    this.inits.push(
      { name: `w${id}`, tensor: randomTensor([M, C / group, k, k], this.rand, 0.3) },
      { name: `b${id}`, tensor: randomTensor([M], this.rand, 0.1) },
    );
    const conv = opts.relu === false ? `y${id}` : `c${id}`;
    this.nodes.push({
      op: 'Conv',
      inputs: [this.value, `w${id}`, `b${id}`],
      outputs: [conv],
      attrs: { group: { i: group }, strides: { ints: [s, s] }, pads: { ints: [p, p, p, p] } },
    });
    if (opts.relu !== false) this.nodes.push({ op: 'Relu', inputs: [conv], outputs: [`y${id}`] });
    const [OH, OW] = [Math.floor((H + 2 * p - k) / s) + 1, Math.floor((W + 2 * p - k) / s) + 1];
    this.flops += 2 * N * M * OH * OW * (C / group) * k * k;
    this.value = `y${id}`;
    this.shape = [N, M, OH, OW];
    return this;
  }

  model(input: number[], extra: NodeSpec[] = []): Uint8Array {
    return buildModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: input }],
      outputs: [{ name: extra.length ? 'logits' : this.value, dtype: 'float32' }],
      initializers: this.inits,
      nodes: [...this.nodes, ...extra],
    });
  }
}

function layer(name: string, shape: number[], k: number, stride: number): Bench {
  const net = new Net('x', shape).conv(shape[1], k, { stride, depthwise: true });
  return { name, bytes: net.model(shape), input: shape, flops: net.flops };
}

/** MobileNetV3-small-like OCR classifier body on 48×192: most of its time is 5×5 depthwise convs. */
function classifier(): Bench {
  const input = [1, 3, 48, 192];
  const net = new Net('x', input)
    .conv(16, 3, { stride: 2 })
    .conv(16, 3, { stride: 2, depthwise: true })
    .conv(72, 1)
    .conv(72, 5, { depthwise: true })
    .conv(24, 1, { relu: false })
    .conv(72, 1)
    .conv(72, 5, { depthwise: true })
    .conv(40, 1, { relu: false })
    .conv(120, 1)
    .conv(120, 5, { depthwise: true })
    .conv(40, 1, { relu: false })
    .conv(240, 1)
    .conv(240, 5, { stride: 2, depthwise: true })
    .conv(80, 1, { relu: false })
    .conv(240, 1)
    .conv(240, 3, { depthwise: true })
    .conv(96, 1, { relu: false });
  const classes = 100;
  const C = net.shape[1];
  net.inits.push(
    { name: 'fc_w', tensor: randomTensor([C, classes], seededRandom(9), 0.1) },
    { name: 'fc_b', tensor: randomTensor([classes], seededRandom(10), 0.1) },
  );
  net.flops += 2 * C * classes;
  const head: NodeSpec[] = [
    { op: 'GlobalAveragePool', inputs: [net.value], outputs: ['pooled'] },
    { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
    { op: 'Gemm', inputs: ['flat', 'fc_w', 'fc_b'], outputs: ['logits'] },
  ];
  return { name: 'classifier 48×192', bytes: net.model(input, head), input, flops: net.flops };
}

/** A 3×3 pool, padding 1; flops counted as one per tap (a max or an add). */
function pool(name: string, op: 'MaxPool' | 'AveragePool', shape: number[], stride: number): Bench {
  const [N, C, H, W] = shape;
  const [OH, OW] = [Math.floor((H - 1) / stride) + 1, Math.floor((W - 1) / stride) + 1];
  const bytes = buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [
      {
        op,
        inputs: ['x'],
        outputs: ['y'],
        attrs: {
          kernel_shape: { ints: [3, 3] },
          strides: { ints: [stride, stride] },
          pads: { ints: [1, 1, 1, 1] },
        },
      },
    ],
  });
  return { name, bytes, input: shape, flops: N * C * OH * OW * 9 };
}

const benches: Bench[] = [
  layer('dw 5×5 s1 [1,72,24,96]', [1, 72, 24, 96], 5, 1),
  layer('dw 5×5 s2 [1,72,24,96]', [1, 72, 24, 96], 5, 2),
  layer('dw 5×5 s1 [1,120,12,48]', [1, 120, 12, 48], 5, 1),
  layer('dw 3×3 s1 [1,240,6,24]', [1, 240, 6, 24], 3, 1),
  layer('dw 3×3 s2 [1,16,24,96]', [1, 16, 24, 96], 3, 2),
  classifier(),
  pool('maxpool 3×3 s2 [1,64,56,56]', 'MaxPool', [1, 64, 56, 56], 2),
  pool('avgpool 3×3 s1 [1,64,28,28]', 'AveragePool', [1, 64, 28, 28], 1),
].filter((b) => !args.filter || new RegExp(args.filter).test(b.name));

const options = {
  before: args.before,
  after: root,
  out,
  warmMs: Number(args['warm-s']) * 1000,
  blocks: Number(args.blocks),
  blockRuns: Number(args['block-runs']),
};
const rows: { name: string; before: number; after: number; flops: number }[] = [];
for (const b of benches) {
  const data = randomTensor(b.input, seededRandom(3)).data as Float32Array;
  const feeds = { x: { dtype: 'float32' as const, dims: b.input, data } };
  rows.push({
    name: b.name,
    ...(await abMedians({ name: b.name, bytes: b.bytes, feeds }, options)),
    flops: b.flops,
  });
}

const gflops = (flops: number, ms: number) => flops / ms / 1e6;
console.log(
  'shape'.padEnd(30),
  'before ms'.padStart(10),
  'after ms'.padStart(10),
  'before GF/s'.padStart(12),
  'after GF/s'.padStart(11),
  'speedup'.padStart(8),
);
for (const r of rows)
  console.log(
    r.name.padEnd(30),
    r.before.toFixed(3).padStart(10),
    r.after.toFixed(3).padStart(10),
    gflops(r.flops, r.before).toFixed(2).padStart(12),
    gflops(r.flops, r.after).toFixed(2).padStart(11),
    (r.before / r.after).toFixed(2).padStart(8),
  );
