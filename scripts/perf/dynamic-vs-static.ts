/**
 * One bundle compiled with dims known only at run time (`--dim batch=1..B --dim sequence=1..S`, #11)
 * against bundles compiled with those shapes fixed (`--shape`), on the benchmarks' exporter-shaped
 * bert-enc: each static bundle and the dynamic one run at the static one's shape in this one process,
 * warmed by time and timed in alternating blocks (DESIGN.md §5); medians, SIMD128 modules.
 *
 *   npx tsx scripts/perf/dynamic-vs-static.ts [--layers 6] [--hidden 384] [--max-seq 128] [--seqs 128,32]
 *                                             [--warm-s 2] [--blocks 10]
 */
import { parseArgs } from 'node:util';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel, type Feed, type Model } from '../../src/runtime/index.js';
import { bertEncoder } from '../bench-models.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '6' },
    hidden: { type: 'string', default: '384' },
    'max-seq': { type: 'string', default: '128' },
    seqs: { type: 'string', default: '128,32' },
    'warm-s': { type: 'string', default: '2' },
    blocks: { type: 'string', default: '10' },
  },
});
const [layers, hidden, maxSeq] = [Number(values.layers), Number(values.hidden), Number(values['max-seq'])];
const heads = hidden / 32;
const { bytes } = bertEncoder({ layers, hidden, heads, sequence: maxSeq });
const BLOCK_RUNS = 3;

function feeds(seq: number): Record<string, Feed> {
  const ids = BigInt64Array.from({ length: seq }, (_, i) => BigInt((i * 7919) % 30522));
  return {
    input_ids: { dtype: 'int64', dims: [1, seq], data: ids },
    attention_mask: { dtype: 'int64', dims: [1, seq], data: new BigInt64Array(seq).fill(1n) },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load = async (options: Parameters<typeof compileModel>[1]) =>
  loadModel(await compileModel(bytes, { ...options, relaxed: false }), {
    backend: 'wasm',
    variant: 'simd128',
  });

const dynamic = await load({ dims: { batch: { min: 1, max: 1 }, sequence: { min: 1, max: maxSeq } } });
for (const seq of values.seqs.split(',').map(Number)) {
  const fixed = await load({ shapes: { input_ids: [1, seq], attention_mask: [1, seq] } });
  const input = feeds(seq);
  const runs: { name: string; model: Model; ms: number[] }[] = [
    { name: 'static', model: fixed, ms: [] },
    { name: 'dynamic', model: dynamic, ms: [] },
  ];
  const start = performance.now();
  while (performance.now() - start < Number(values['warm-s']) * 1000)
    for (const r of runs) await r.model.run(input);
  for (let block = 0; block < Number(values.blocks); block++)
    for (const r of runs) {
      const t = performance.now();
      for (let k = 0; k < BLOCK_RUNS; k++) await r.model.run(input);
      r.ms.push((performance.now() - t) / BLOCK_RUNS);
    }
  const [s, d] = runs.map((r) => median(r.ms));
  console.log(
    `bert-enc ${layers} layers, hidden ${hidden}, batch 1, sequence ${seq}: static ${s.toFixed(2)} ms, dynamic (sequence 1..${maxSeq}) ${d.toFixed(2)} ms (×${(d / s).toFixed(2)})`,
  );
  fixed.dispose();
}
dynamic.dispose();
