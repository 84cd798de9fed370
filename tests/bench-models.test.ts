/**
 * The exporter-shaped benchmark models (scripts/bench-models.ts), built small with the same graph
 * structure, compiled by Kiln and checked against onnxruntime-node. No timing is asserted here.
 */
import { describe, it } from 'vitest';
import { bertEncoder, crnnRec, dbnetDet, mobilenetV3Cls, type BenchModel } from '../scripts/bench-models.js';
import { expectMatchesOrt } from './helpers/bench-model-check.js';

const cases: [string, () => BenchModel][] = [
  ['mobilenetv3-cls (6 blocks, 32×64)', () => mobilenetV3Cls({ height: 32, width: 64, blocks: 6 })],
  ['dbnet-det (1 block per stage, 64×64)', () => dbnetDet({ size: 64, blocksPerStage: 1 })],
  ['crnn-rec (1 transformer block, width 64)', () => crnnRec({ width: 64, blocks: 1 })],
  [
    'bert-enc (2 layers, hidden 48, sequence 16)',
    () => bertEncoder({ sequence: 16, layers: 2, hidden: 48, heads: 4, vocab: 500 }),
  ],
];

describe('exporter-shaped benchmark models match onnxruntime', () => {
  for (const [name, build] of cases) {
    it(name, () => expectMatchesOrt(build()));
  }
});
