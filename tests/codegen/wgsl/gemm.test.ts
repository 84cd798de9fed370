/** The tiled gemm shader and gemms inside loops (lowered to loops), against a float64 JS reference. */
import { describe, expect, it } from 'vitest';
import { i32, loop, mul, v } from '../../../src/kernels/build.js';
import type { Activation, Expr, GemmStmt, MatView, PlacedBuffer } from '../../../src/kernels/ir.js';
import { place, programOf } from '../harness.js';
import { expectClose, runWgsl } from './harness.js';

interface View {
  offset: number;
  rs: number;
  cs: number;
}

interface Case {
  M: number;
  N: number;
  K: number;
  a?: Partial<View>;
  b?: Partial<View>;
  c?: Partial<View>;
  bias?: View;
  alpha?: number;
  beta?: number;
  act?: Activation;
}

const rand = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);
const extent = (view: View, r: number, c: number) => view.offset + (r - 1) * view.rs + (c - 1) * view.cs + 1;

function views(cs: Case) {
  return {
    av: { offset: 0, rs: cs.K, cs: 1, ...cs.a },
    bv: { offset: 0, rs: cs.N, cs: 1, ...cs.b },
    cv: { offset: 0, rs: cs.N, cs: 1, ...cs.c },
  };
}

/** C after the gemm, batch by batch (`batch` copies, each `stride` elements further in A, B and C). */
function reference(
  cs: Case,
  A: Float32Array,
  B: Float32Array,
  Bias: Float32Array,
  C: Float32Array,
  batch = 1,
  stride = 0,
) {
  const { av, bv, cv } = views(cs);
  const out = Float32Array.from(C);
  for (let t = 0; t < batch; t++)
    for (let m = 0; m < cs.M; m++)
      for (let n = 0; n < cs.N; n++) {
        let acc = 0;
        for (let k = 0; k < cs.K; k++)
          acc +=
            A[t * stride + av.offset + m * av.rs + k * av.cs] *
            B[t * stride + bv.offset + k * bv.rs + n * bv.cs];
        let value = (cs.alpha ?? 1) * acc;
        if (cs.bias) value += (cs.beta ?? 1) * Bias[cs.bias.offset + m * cs.bias.rs + n * cs.bias.cs];
        if (cs.act?.op === 'relu') value = Math.max(value, 0);
        if (cs.act?.op === 'clip') value = Math.min(Math.max(value, cs.act.min), cs.act.max);
        out[t * stride + cv.offset + m * cv.rs + n * cv.cs] = value;
      }
  return out;
}

/** `off` places the A, B and C views (per batch); the bias is shared by all batches */
function gemmOf(cs: Case, [A, B, Bias, C]: PlacedBuffer[], off: (view: View) => Expr): GemmStmt {
  const { av, bv, cv } = views(cs);
  const mv = (buf: PlacedBuffer, view: View): MatView => ({
    buf,
    offset: buf === Bias ? i32(view.offset) : off(view),
    rs: view.rs,
    cs: view.cs,
  });
  return {
    k: 'gemm',
    M: cs.M,
    N: cs.N,
    K: cs.K,
    a: mv(A, av),
    b: mv(B, bv),
    c: mv(C, cv),
    alpha: cs.alpha ?? 1,
    beta: cs.beta ?? 1,
    ...(cs.bias ? { bias: mv(Bias, cs.bias) } : {}),
    ...(cs.act ? { act: cs.act } : {}),
  };
}

/** Runs the gemm (in a loop of `batch` when > 1) on the GPU; checks C against the reference. */
async function check(cs: Case, batch = 1) {
  const { av, bv, cv } = views(cs);
  const stride = Math.max(extent(av, cs.M, cs.K), extent(bv, cs.K, cs.N), extent(cv, cs.M, cs.N));
  const size = (view: View, r: number, c: number) => (batch > 1 ? batch * stride : extent(view, r, c));
  const A = rand(size(av, cs.M, cs.K), 1);
  const B = rand(size(bv, cs.K, cs.N), 2);
  const Bias = cs.bias ? rand(extent(cs.bias, cs.M, cs.N), 3) : new Float32Array(1);
  const C0 = rand(size(cv, cs.M, cs.N), 4);
  const bufs = place([A, B, Bias, C0].map((d) => ({ dtype: 'float32' as const, length: d.length })));
  const body =
    batch > 1
      ? [loop('t', batch, [gemmOf(cs, bufs, (view) => offsetIn(view.offset, v('t'), stride))])]
      : [gemmOf(cs, bufs, (view) => i32(view.offset))];
  const program = programOf(bufs, body);
  const inputs = [A, B, Bias, C0].map((data, i) => ({ buf: bufs[i], data }));
  const { results, compiled } = await runWgsl(program, inputs, [bufs[3]]);
  expectClose(results[0], reference(cs, A, B, Bias, C0, batch, stride), { rel: 1e-5, abs: 1e-5 * cs.K });
  return compiled;
}

/** view offset + t·stride */
function offsetIn(offset: number, t: Expr, stride: number): Expr {
  return { k: 'bin', t: 'i32', op: 'add', a: i32(offset), b: mul(t, i32(stride)) };
}

describe('wgsl gemm', () => {
  it('1×1×1 and odd sizes with tails in every direction (37×29×53), alpha, row-broadcast bias and relu', async () => {
    await check({ M: 1, N: 1, K: 1 });
    const compiled = await check({
      M: 37,
      N: 29,
      K: 53,
      alpha: 0.5,
      bias: { offset: 0, rs: 0, cs: 1 },
      act: { op: 'relu' },
    });
    expect(compiled.run[0].workgroups).toEqual([2, 3, 1]);
  });

  it('column-broadcast bias with beta and clip; strided views (transposed A, padded rows, offsets)', async () => {
    await check({
      M: 20,
      N: 17,
      K: 9,
      bias: { offset: 2, rs: 1, cs: 0 },
      beta: -0.5,
      act: { op: 'clip', min: -1, max: 1.5 },
    });
    await check({
      M: 6,
      N: 10,
      K: 5,
      a: { rs: 1, cs: 6 },
      b: { offset: 3, rs: 13 },
      c: { offset: 2, rs: 12 },
    });
  });

  it('a gemm inside a batch loop becomes loops, spread over batches and elements', async () => {
    const compiled = await check({ M: 5, N: 7, K: 3, bias: { offset: 0, rs: 7, cs: 1 } }, 3);
    expect(compiled.run[0].workgroups).toEqual([2, 1, 1]);
    expect(compiled.code).toMatch(/if \(gid >= 105u\)/);
  });
});
