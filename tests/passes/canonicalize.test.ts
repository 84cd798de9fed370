import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import { canonicalize } from '../../src/passes/canonicalize.js';

function graphWith(
  op: string,
  c: number[],
  cShape: number[] = [],
  dtype: 'float32' | 'int32' = 'float32',
): Graph {
  const t = (shape: number[]) => ({ dtype, shape });
  return {
    name: 'g',
    inputs: [{ name: 'x', type: t([2, 3]) }],
    outputs: [{ name: 'y', type: t([2, 3]) }],
    initializers: new Map([
      ['c', { dtype, dims: cShape, data: dtype === 'float32' ? Float32Array.from(c) : Int32Array.from(c) }],
    ]),
    nodes: [{ op, domain: '', name: 'n', inputs: ['x', 'c'], outputs: ['y'], attrs: {} }],
    opsets: { '': 17 },
    types: new Map([
      ['x', t([2, 3])],
      ['c', t(cShape)],
      ['y', t([2, 3])],
    ]),
  } as unknown as Graph;
}

describe('canonicalize', () => {
  it('Pow(x, 2) becomes Mul(x, x)', () => {
    const g = canonicalize(graphWith('Pow', [2]));
    expect(g.nodes[0]).toMatchObject({ op: 'Mul', inputs: ['x', 'x'] });
  });
  it('leaves Pow with other exponents (0.5: sqrt differs at -0 and -inf) and integer bases', () => {
    expect(canonicalize(graphWith('Pow', [0.5])).nodes[0].op).toBe('Pow');
    expect(canonicalize(graphWith('Pow', [2, 3], [2])).nodes[0].op).toBe('Pow');
    expect(canonicalize(graphWith('Pow', [2], [], 'int32')).nodes[0].op).toBe('Pow');
  });
  it('Div by powers of two becomes Mul by their exact reciprocals', () => {
    const g = canonicalize(graphWith('Div', [2, -0.25, 1024], [3]));
    expect(g.nodes[0].op).toBe('Mul');
    const r = g.initializers.get(g.nodes[0].inputs[1])!;
    expect(Array.from(r.data as Float32Array)).toEqual([0.5, -4, 1 / 1024]);
    expect(g.types.get(g.nodes[0].inputs[1])).toEqual({ dtype: 'float32', shape: [3] });
  });
  it('leaves Div by other constants, by 2^-127 and up (reciprocal not normal) and by zero', () => {
    for (const c of [3, 0.1, 2 ** -127, 2 ** 127, 0])
      expect(canonicalize(graphWith('Div', [c])).nodes[0].op).toBe('Div');
  });
  it('leaves a constant that broadens the output', () => {
    const g = graphWith('Pow', [2, 2], [2, 1, 1]);
    g.types.set('y', { dtype: 'float32', shape: [2, 2, 3] });
    expect(canonicalize(g).nodes[0].op).toBe('Pow');
  });
});
