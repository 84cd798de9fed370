/**
 * Attribute types are checked where an op reads them: a wrong type is one error naming the node, the
 * attribute, the type expected and the type found — never an internal failure deeper in the op.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { buildModel, type AttrSpec } from '../helpers/onnx-builder.js';

/** y = OP(x) on a float32 [1, 4, 2, 2] tensor (Gather also takes int64 indices [2]), with `attrs`. */
function compileOne(op: string, attrs: Record<string, AttrSpec>): Promise<unknown> {
  const gather = op === 'Gather';
  const bytes = buildModel({
    inputs: [
      { name: 'x', dtype: 'float32', shape: [1, 4, 2, 2] },
      ...(gather ? [{ name: 'i', dtype: 'int64' as const, shape: [2] }] : []),
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [{ op, name: 'n', inputs: gather ? ['x', 'i'] : ['x'], outputs: ['y'], attrs }],
  });
  return compileModel(bytes, { relaxed: false });
}

describe('attribute types', () => {
  const cases: [string, Record<string, AttrSpec>, string][] = [
    // used to fail with "Cannot convert undefined to a BigInt"
    ['Gather', { axis: { f: 1.5 } }, `Gather node "n": attribute 'axis' must be an int, got float 1.5`],
    // attrFloat was attrInt: a bad float attribute reported "must be an int"
    [
      'LeakyRelu',
      { alpha: { s: '0.1' } },
      `LeakyRelu node "n": attribute 'alpha' must be a float, got a string`,
    ],
    [
      'Transpose',
      { perm: { floats: [0, 1.5, 2, 3] } },
      `Transpose node "n": attribute 'perm' must be a list of ints, got a list of floats`,
    ],
    [
      'DepthToSpace',
      { blocksize: { i: 2 }, mode: { i: 1 } },
      `DepthToSpace node "n": attribute 'mode' must be a string, got number 1`,
    ],
    [
      'Elu',
      { alpha: { floats: [1] } },
      `Elu node "n": attribute 'alpha' must be a float, got a list of numbers`,
    ],
  ];
  it.each(cases)(
    '%s with %j is refused with node, attribute, expected and actual type',
    async (op, attrs, message) => {
      await expect(compileOne(op, attrs)).rejects.toThrow(message);
    },
  );

  it('an int attribute where a float is expected is the same float', async () => {
    await expect(compileOne('LeakyRelu', { alpha: { i: 1 } })).resolves.toBeDefined();
  });
});
