import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOnnxModel } from '../../src/frontend/onnx/index.js';
import { MUTATION_KINDS, mutateModel } from '../helpers/mutate-model.js';
import { seededRandom } from '../helpers/onnx-builder.js';

const LIGHT = '/work/shared/data/onnx-light';
const NODE = '/usr/include/onnx/backend/test/data/node';
const SEEDS = [
  `${LIGHT}/light_bvlc_alexnet.onnx`,
  `${LIGHT}/light_zfnet512.onnx`,
  `${LIGHT}/light_squeezenet.onnx`,
  `${NODE}/test_loop11/model.onnx`,
  `${NODE}/test_if/model.onnx`,
  `${NODE}/test_constant/model.onnx`,
  `${NODE}/test_cast_FLOAT_to_STRING/model.onnx`,
  `${NODE}/test_scan9_sum/model.onnx`,
  `${NODE}/test_reshape_extended_dims/model.onnx`,
].map((p) => new Uint8Array(readFileSync(p)));
const CASES = 1500;

/** An in-memory external-data reader that refuses large reads, so a fuzz case cannot demand gigabytes. */
function readExternal(_path: string, _offset: number, length: number | undefined): Uint8Array {
  if (length === undefined || length > 1 << 20) throw new Error(`refusing to read ${length} bytes`);
  return new Uint8Array(length);
}

describe('ONNX frontend under fuzzed input', () => {
  it(`${CASES} mutated models each give a Graph or a one-line Error`, () => {
    const rand = seededRandom(0x6b696c6e);
    const outcomes = new Map<string, { ok: number; refused: number }>();
    for (let i = 0; i < CASES; i++) {
      const { kind, bytes } = mutateModel(SEEDS[i % SEEDS.length], rand);
      const tally = outcomes.get(kind) ?? { ok: 0, refused: 0 };
      outcomes.set(kind, tally);
      try {
        parseOnnxModel(bytes, { readExternal });
        tally.ok++;
      } catch (e) {
        tally.refused++;
        const where = `case ${i} (${kind})`;
        expect(e, where).toBeInstanceOf(Error);
        expect(e, where).not.toBeInstanceOf(TypeError);
        expect(e, where).not.toBeInstanceOf(RangeError);
        const msg = (e as Error).message;
        expect(msg.length, where).toBeGreaterThan(0);
        expect(msg, where).not.toMatch(/[\r\n]/);
      }
    }
    // Every mutation kind ran, and the mix produced both accepted and refused models.
    expect([...outcomes.keys()].sort()).toEqual([...MUTATION_KINDS].sort());
    const total = [...outcomes.values()].reduce((a, t) => ({
      ok: a.ok + t.ok,
      refused: a.refused + t.refused,
    }));
    expect(total.ok).toBeGreaterThan(CASES / 20);
    expect(total.refused).toBeGreaterThan(CASES / 4);
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const rand = seededRandom(7);
      return Array.from({ length: 20 }, (_, i) => mutateModel(SEEDS[i % SEEDS.length], rand));
    };
    expect(run()).toEqual(run());
  });
});
