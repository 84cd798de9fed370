/**
 * One float32 Conv (random weights and bias, optional fused Relu) as an ONNX file, for profiling a conv
 * shape class in isolation: `kiln compile` it, then `kiln bench DIR --profile`.
 *
 *   npx tsx scripts/perf/conv-model.ts OUT.onnx C M H W K STRIDE [--no-relu]
 */
import { writeFileSync } from 'node:fs';
import { buildModel, randomTensor, seededRandom } from '../../tests/helpers/onnx-builder.js';

const [out, ...nums] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [C, M, H, W, K, S] = nums.map(Number);
const relu = !process.argv.includes('--no-relu');
const r = seededRandom(3);
const p = (K - 1) >> 1;
const oh = Math.floor((H + 2 * p - K) / S) + 1;
const ow = Math.floor((W + 2 * p - K) / S) + 1;
writeFileSync(
  out,
  buildModel({
    name: 'conv',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, H, W] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, M, oh, ow] }],
    initializers: [
      { name: 'w', tensor: randomTensor([M, C, K, K], r, Math.sqrt(2 / (C * K * K))) },
      { name: 'b', tensor: randomTensor([M], r, 0.05) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: [relu ? 'c' : 'y'],
        attrs: { strides: { ints: [S, S] }, pads: { ints: [p, p, p, p] } },
      },
      ...(relu ? [{ op: 'Relu', inputs: ['c'], outputs: ['y'] }] : []),
    ],
  }),
);
console.log(`wrote ${out}: Conv ${C}→${M} ${K}×${K} s${S} on ${H}×${W} → ${oh}×${ow}`);
