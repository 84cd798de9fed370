/**
 * A DBNet-style text detector for first-run measurements (issue #18): a strided conv backbone to 1/16,
 * an FPN-like neck (1×1 laterals, nearest upsampling, sums) and a conv head with a sigmoid map, random
 * weights. Writes the ONNX file to the path given (default /tmp/kiln-detector.onnx); input "image".
 *
 *   npx tsx scripts/perf/detector-model.ts [OUT.onnx] [--size 320]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../../tests/helpers/onnx-builder.js';
import { tensorFromNumbers } from '../../src/ir/tensor.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '320' } },
});
const size = Number(values.size);
const r = seededRandom(18);
const initializers: { name: string; tensor: ReturnType<typeof randomTensor> }[] = [];
const nodes: NodeSpec[] = [];

function conv(
  x: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  out: string,
  relu = true,
): string {
  initializers.push({
    name: `${out}_w`,
    tensor: randomTensor([cout, cin, k, k], r, Math.sqrt(2 / (cin * k * k))),
  });
  initializers.push({ name: `${out}_b`, tensor: randomTensor([cout], r, 0.05) });
  const p = (k - 1) >> 1;
  nodes.push({
    op: 'Conv',
    inputs: [x, `${out}_w`, `${out}_b`],
    outputs: [relu ? `${out}_c` : out],
    attrs: { strides: { ints: [stride, stride] }, pads: { ints: [p, p, p, p] } },
  });
  if (relu) nodes.push({ op: 'Relu', inputs: [`${out}_c`], outputs: [out] });
  return out;
}

function upsample(x: string, factor: number, out: string): string {
  initializers.push({
    name: `${out}_scales`,
    tensor: tensorFromNumbers('float32', [4], [1, 1, factor, factor]),
  });
  nodes.push({
    op: 'Resize',
    inputs: [x, '', `${out}_scales`],
    outputs: [out],
    attrs: { mode: { s: 'nearest' } },
  });
  return out;
}

// backbone: 1/2 → 1/16, two convs per stage
let x = conv('image', 3, 16, 3, 2, 'stem');
x = conv(x, 16, 16, 3, 1, 'stem2');
const widths = [32, 64, 128];
const features: string[] = [];
let cin = 16;
widths.forEach((w, i) => {
  x = conv(x, cin, w, 3, 2, `s${i}a`);
  x = conv(x, w, w, 3, 1, `s${i}b`);
  x = conv(x, w, w, 3, 1, `s${i}c`);
  features.push(x);
  cin = w;
});
// neck: laterals to 32 channels at 1/4, summed
const laterals = features.map((f, i) => conv(f, widths[i], 32, 1, 1, `lat${i}`, false));
let sum = laterals[0];
laterals.slice(1).forEach((l, i) => {
  const up = upsample(l, 2 ** (i + 1), `up${i + 1}`);
  nodes.push({ op: 'Add', inputs: [sum, up], outputs: [`sum${i + 1}`] });
  sum = `sum${i + 1}`;
});
// head: 3×3 conv, 1×1 to one map, sigmoid
const h = conv(sum, 32, 32, 3, 1, 'head');
conv(h, 32, 1, 1, 1, 'logits', false);
nodes.push({ op: 'Sigmoid', inputs: ['logits'], outputs: ['prob'] });

const out = positionals[0] ?? '/tmp/kiln-detector.onnx';
writeFileSync(
  out,
  buildModel({
    name: 'detector',
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, size, size] }],
    outputs: [{ name: 'prob', dtype: 'float32', shape: [1, 1, size / 4, size / 4] }],
    initializers,
    nodes,
  }),
);
console.log(`wrote ${out}: ${nodes.length} nodes, input image [1, 3, ${size}, ${size}]`);
