/**
 * The performance survey's exporter-shaped variants (scripts/perf/survey-models.ts), built small with the
 * same graph structure, compiled by Kiln and checked against onnxruntime-node. No timing is asserted here.
 */
import { describe, it } from 'vitest';
import type { BenchModel } from '../scripts/bench-models.js';
import { bertMini, dbnetMv3Det, pplcnetCls, svtrRec, tfMobilenet } from '../scripts/perf/survey-models.js';
import { expectMatchesOrt } from './helpers/bench-model-check.js';

const cases: [string, () => BenchModel][] = [
  ['pplcnet-cls (all blocks, 32×64)', () => pplcnetCls({ height: 32, width: 64 })],
  ['svtr-rec (1 block per stage, 32×40)', () => svtrRec({ height: 32, width: 40, blocks: 1 })],
  ['dbnet-mv3-det (64×64)', () => dbnetMv3Det({ size: 64 })],
  [
    'bert-mini (1 layer, hidden 48, sequence 13)',
    () => bertMini({ sequence: 13, layers: 1, hidden: 48, heads: 4, vocab: 300 }),
  ],
  ['tf-mobilenet (8 blocks, 34×34)', () => tfMobilenet({ size: 34, blocks: 8 })],
];

describe('survey variants match onnxruntime', () => {
  for (const [name, build] of cases) {
    it(name, () => expectMatchesOrt(build()));
  }
});
