/**
 * Exact rewrites of arithmetic with constant operands into cheaper forms the vectorizer handles (a scalar
 * pow call per element becomes one f32x4 multiply, and joins its neighbours' fused loop):
 *
 * - Pow(x, 2) → Mul(x, x): pow(x, 2) correctly rounded is x·x rounded, for every x (specials included).
 * - Div(x, c) → Mul(x, 1/c) where every element of c is ±2^k with 1/c a normal float: both sides then
 *   round the same exact value, so the results are bitwise equal.
 *
 * Pow(x, 0.5) is left alone: sqrt(-0) = -0 and sqrt(-inf) = NaN, where pow gives +0 and +inf.
 * Only float32/float64 operands, and only where the constant does not broaden the output's shape.
 */
import type { Graph, Node } from '../ir/graph.js';
import { tensorToNumbers, type HostTensor } from '../ir/tensor.js';

const FLOAT = new Set(['float32', 'float64']);

export function canonicalize(graph: Graph): Graph {
  const initializers = new Map(graph.initializers);
  const types = new Map(graph.types);
  const constOf = (name: string): number[] | undefined => {
    const t = initializers.get(name);
    return t && t.dtype !== 'string' && t.data.length > 0 && t.data.length <= 4096
      ? tensorToNumbers(t)
      : undefined;
  };
  const sameShape = (a: string, b: string) =>
    types.get(a)?.shape.join(',') === types.get(b)?.shape.join(',') && types.has(a);
  const isFloat = (name: string) => FLOAT.has(types.get(name)?.dtype ?? '');

  const nodes = graph.nodes.map((node): Node => {
    if (node.domain !== '' || node.inputs.length !== 2 || node.outputs.length !== 1) return node;
    const [x, c] = node.inputs;
    const out = node.outputs[0];
    if (!x || !c || !isFloat(x) || !sameShape(x, out)) return node;
    const values = constOf(c);
    if (!values) return node;
    if (node.op === 'Pow' && values.every((v) => v === 2))
      return { ...node, op: 'Mul', inputs: [x, x], attrs: {} };
    if (node.op === 'Div' && isFloat(c) && values.every(isPowerOfTwo)) {
      const src = initializers.get(c)!;
      const name = `${c}__reciprocal`;
      const data = src.data.slice() as Float32Array | Float64Array;
      for (let i = 0; i < data.length; i++) data[i] = 1 / data[i];
      const recip: HostTensor = { dtype: src.dtype, dims: [...src.dims], data };
      initializers.set(name, recip);
      types.set(name, types.get(c)!);
      return { ...node, op: 'Mul', inputs: [x, name], attrs: {} };
    }
    return node;
  });
  return { ...graph, nodes, initializers, types };
}

/** ±2^k whose reciprocal is a normal float32 (so x/c and x·(1/c) round the same exact value). */
function isPowerOfTwo(v: number): boolean {
  const a = Math.abs(v);
  if (!(a > 0) || !Number.isFinite(a)) return false;
  const e = Math.log2(a);
  return Number.isInteger(e) && e >= -126 && e <= 126;
}
