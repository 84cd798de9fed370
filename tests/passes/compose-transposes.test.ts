/**
 * A Transpose of a Transpose (passes/compose-transposes.ts) is one Transpose kernel on the wasm target,
 * computing what onnxruntime does with the two, for shapes of odd sizes; an inner Transpose with another
 * reader stays.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { loadModel } from '../../src/runtime/index.js';
import { buildModel, randomTensor, seededRandom, type NodeSpec } from '../helpers/onnx-builder.js';
import { ortMismatches } from '../helpers/ort-oracle.js';

const X = [2, 3, 5, 7];

/** x [2,3,5,7] → each perm in turn (undefined: no perm attribute, the axes reversed) → y (and `extra` outputs) */
function transposes(
  perms: (number[] | undefined)[],
  extra: { name: string; shape: number[] }[] = [],
): Uint8Array {
  let shape = X;
  const nodes: NodeSpec[] = perms.map((perm, i) => {
    shape = (perm ?? [3, 2, 1, 0]).map((p) => shape[p]);
    return {
      op: 'Transpose',
      inputs: [i === 0 ? 'x' : `t${i - 1}`],
      outputs: [i === perms.length - 1 ? 'y' : `t${i}`],
      ...(perm ? { attrs: { perm: { ints: perm } } } : {}),
    };
  });
  return buildModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: X }],
    outputs: [
      { name: 'y', dtype: 'float32', shape },
      ...extra.map((e) => ({ ...e, dtype: 'float32' as const })),
    ],
    nodes,
  });
}

const CASES: { name: string; bytes: Uint8Array; kernels: number }[] = [
  {
    name: "attention's Kᵀ: (0,2,1,3) then (0,1,3,2)",
    bytes: transposes([
      [0, 2, 1, 3],
      [0, 1, 3, 2],
    ]),
    kernels: 1,
  },
  { name: 'no perm (reversed) then (1,0,3,2)', bytes: transposes([undefined, [1, 0, 3, 2]]), kernels: 1 },
  {
    name: 'three in a row',
    bytes: transposes([
      [0, 2, 1, 3],
      [3, 1, 2, 0],
      [1, 2, 3, 0],
    ]),
    kernels: 1,
  },
  {
    name: 'back to the identity',
    bytes: transposes([
      [0, 2, 3, 1],
      [0, 3, 1, 2],
    ]),
    kernels: 1,
  },
  {
    name: 'the inner result also a graph output: kept',
    bytes: transposes(
      [
        [0, 2, 1, 3],
        [0, 1, 3, 2],
      ],
      [{ name: 't0', shape: [2, 5, 3, 7] }],
    ),
    kernels: 2,
  },
];

describe('Transpose of a Transpose', () => {
  for (const c of CASES)
    it(`${c.name}: ${c.kernels} kernel(s), as onnxruntime computes it`, async () => {
      const files = await compileModel(c.bytes, { relaxed: false });
      expect((files.manifest.kernels ?? []).map((k) => k.op)).toEqual(Array(c.kernels).fill('Transpose'));
      const model = await loadModel(files, { backend: 'wasm' });
      try {
        expect(await ortMismatches(c.bytes, model, { x: randomTensor(X, seededRandom(3)) })).toEqual([]);
      } finally {
        model.dispose();
      }
    });
});
