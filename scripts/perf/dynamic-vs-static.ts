/**
 * One bundle compiled with dims known only at run time (#11) against bundles compiled with those shapes
 * fixed (`--shape`): each static bundle and the dynamic one run at the static one's shape in this one
 * process, warmed by time and timed in alternating blocks (DESIGN.md §5); medians, SIMD128 modules, by
 * wall-clock time or, with `--clock cpu` on a loaded machine, this thread's CPU time.
 * `--model bert-enc` (the default): the exporter-shaped encoder, `--dim batch=1..1 --dim sequence=1..S`,
 * at each of `--seqs`; `--model dbnet-det`: the DBNet-style detector, `--shape x=1,3,32..M:32,32..M:32`
 * (M = `--max-side`), at each square side of `--sides`; `--model crnn-rec`: the OCR recognizer,
 * `--shape x=1,3,48,16..1024`, at each width of `--widths`.
 *
 *   npx tsx scripts/perf/dynamic-vs-static.ts [--model bert-enc|dbnet-det|crnn-rec] [--layers 6] [--hidden 384]
 *       [--max-seq 128] [--seqs 128,32] [--max-side 1024] [--sides 640] [--widths 320] [--warm-s 2] [--blocks 10]
 *       [--clock wall|cpu]
 */
import { parseArgs } from 'node:util';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { loadModel, type Feed, type Model } from '../../src/runtime/index.js';
import { bertEncoder, crnnRec, dbnetDet } from '../bench-models.js';
import { randomTensor, seededRandom } from '../../tests/helpers/onnx-builder.js';
import { clockMs, median } from './ab.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'bert-enc' },
    layers: { type: 'string', default: '6' },
    hidden: { type: 'string', default: '384' },
    'max-seq': { type: 'string', default: '128' },
    seqs: { type: 'string', default: '128,32' },
    'max-side': { type: 'string', default: '1024' },
    sides: { type: 'string', default: '640' },
    widths: { type: 'string', default: '320' },
    'warm-s': { type: 'string', default: '2' },
    blocks: { type: 'string', default: '10' },
    clock: { type: 'string', default: 'wall' },
  },
});
const BLOCK_RUNS = 3;
if (values.clock !== 'wall' && values.clock !== 'cpu')
  throw new Error(`--clock ${values.clock}: expected wall or cpu`);
const clock = values.clock;

/** What is compared: the dynamic bundle's options, and per size the static options, feeds and a label. */
interface Comparison {
  bytes: Uint8Array;
  dynamic: CompileOptions;
  dynamicLabel: string;
  sizes: { label: string; fixed: CompileOptions; input: Record<string, Feed> }[];
}

function bert(): Comparison {
  const [layers, hidden, maxSeq] = [Number(values.layers), Number(values.hidden), Number(values['max-seq'])];
  const { bytes } = bertEncoder({ layers, hidden, heads: hidden / 32, sequence: maxSeq });
  const feeds = (seq: number): Record<string, Feed> => ({
    input_ids: {
      dtype: 'int64',
      dims: [1, seq],
      data: BigInt64Array.from({ length: seq }, (_, i) => BigInt((i * 7919) % 30522)),
    },
    attention_mask: { dtype: 'int64', dims: [1, seq], data: new BigInt64Array(seq).fill(1n) },
  });
  return {
    bytes,
    dynamic: { dims: { batch: { min: 1, max: 1 }, sequence: { min: 1, max: maxSeq } } },
    dynamicLabel: `sequence 1..${maxSeq}`,
    sizes: values.seqs.split(',').map((s) => {
      const seq = Number(s);
      return {
        label: `bert-enc ${layers} layers, hidden ${hidden}, batch 1, sequence ${seq}`,
        fixed: { shapes: { input_ids: [1, seq], attention_mask: [1, seq] } },
        input: feeds(seq),
      };
    }),
  };
}

function dbnet(): Comparison {
  const max = Number(values['max-side']);
  const side = { min: 32, max, step: 32 };
  return {
    bytes: dbnetDet().bytes,
    dynamic: { shapes: { x: [1, 3, side, side] } },
    dynamicLabel: `height, width 32..${max}:32`,
    sizes: values.sides.split(',').map((s) => {
      const n = Number(s);
      return {
        label: `dbnet-det ${n}×${n}`,
        fixed: { shapes: { x: [1, 3, n, n] } },
        input: { x: randomTensor([1, 3, n, n], seededRandom(n)) as Feed },
      };
    }),
  };
}

function crnn(): Comparison {
  return {
    bytes: crnnRec().bytes,
    dynamic: { shapes: { x: [1, 3, 48, { min: 16, max: 1024 }] } },
    dynamicLabel: 'width 16..1024',
    sizes: values.widths.split(',').map((s) => {
      const w = Number(s);
      return {
        label: `crnn-rec 48×${w}`,
        fixed: { shapes: { x: [1, 3, 48, w] } },
        input: { x: randomTensor([1, 3, 48, w], seededRandom(w)) as Feed },
      };
    }),
  };
}

const plans: Record<string, () => Comparison> = { 'bert-enc': bert, 'dbnet-det': dbnet, 'crnn-rec': crnn };
if (!plans[values.model])
  throw new Error(`--model ${values.model}: expected one of ${Object.keys(plans).join(', ')}`);
const plan = plans[values.model]();
const load = async (options: CompileOptions) =>
  loadModel(await compileModel(plan.bytes, { ...options, relaxed: false }), {
    backend: 'wasm',
    variant: 'simd128',
  });

const dynamic = await load(plan.dynamic);
for (const size of plan.sizes) {
  const fixed = await load(size.fixed);
  const runs: { name: string; model: Model; ms: number[] }[] = [
    { name: 'static', model: fixed, ms: [] },
    { name: 'dynamic', model: dynamic, ms: [] },
  ];
  const start = performance.now();
  while (performance.now() - start < Number(values['warm-s']) * 1000)
    for (const r of runs) await r.model.run(size.input);
  for (let block = 0; block < Number(values.blocks); block++)
    for (const r of runs) {
      const t = clockMs(clock);
      for (let k = 0; k < BLOCK_RUNS; k++) await r.model.run(size.input);
      r.ms.push((clockMs(clock) - t) / BLOCK_RUNS);
    }
  const [s, d] = runs.map((r) => median(r.ms));
  console.log(
    `${size.label}: static ${s.toFixed(2)} ms (${clock} clock), dynamic (${plan.dynamicLabel}) ${d.toFixed(2)} ms (×${(d / s).toFixed(2)})`,
  );
  fixed.dispose();
}
dynamic.dispose();
