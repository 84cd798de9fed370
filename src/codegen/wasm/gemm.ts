/** Rendering of the GEMM statement: C = act(alpha * A·B + beta * Bias), float32. */
import type { Activation, Expr, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, set, store, v } from '../../kernels/build.js';
import type { KernelEmitter } from './render.js';
import { renderSimdGemm, simdGemmForm } from './gemm-simd.js';
import { renderInt8Gemm } from './gemm-int8.js';

function checkViews(g: GemmStmt): void {
  const views: [string, MatView | undefined][] = [
    ['A', g.a],
    ['B', g.b],
    ['C', g.c],
    ['bias', g.bias],
  ];
  for (const [name, view] of views) {
    if (view && view.buf.dtype !== 'float32')
      throw new Error(
        `gemm ${name} must be a float32 buffer, found ${view.buf.dtype} (buffer #${view.buf.id})`,
      );
  }
}

/** alpha·acc + beta·bias, then the activation, as Kernel IR (gemm-simd.ts has a lane-generic WAT twin). */
function epilogue(g: GemmStmt, acc: Expr, bias: Expr | undefined): Expr {
  let value = g.alpha === 1 ? acc : mul(acc, f32(g.alpha));
  if (bias) value = add(value, g.beta === 1 ? bias : mul(bias, f32(g.beta)));
  return activate(g.act, value);
}

function activate(act: Activation | undefined, value: Expr): Expr {
  if (!act) return value;
  if (act.op === 'relu') return max(value, f32(0));
  return min(max(value, f32(act.min)), f32(act.max));
}

/** element (r, c) of a view whose offset was bound to the local `off` */
function at(view: MatView, off: Expr, r: Expr, c: Expr): Expr {
  let index = off;
  if (view.rs !== 0) index = add(index, view.rs === 1 ? r : mul(r, i32(view.rs)));
  if (view.cs !== 0) index = add(index, view.cs === 1 ? c : mul(c, i32(view.cs)));
  return index;
}

/**
 * The general (any strides) GEMM as Kernel IR loops: view offsets evaluated once into locals, then per row,
 * blocks of 4 columns whose 4 accumulators share each A[m,k] load (k innermost), then single tail columns.
 */
function scalarGemm(g: GemmStmt, p: string): Stmt[] {
  const off = (name: string, view: MatView): Stmt => local(p + name, 'i32', view.offset);
  const [aOff, bOff, cOff, biasOff] = ['a', 'b', 'c', 'bias'].map((name) => v(p + name));
  const m = v(p + 'm');
  /** `cols` outputs of row m at columns col(0..cols-1); `tag` keeps local and loop names unique */
  const block = (cols: number, col: (j: number) => Expr, tag: string): Stmt[] => {
    const acc = (j: number) => `${p}acc${tag}${j}`;
    const k = v(p + 'k' + tag);
    const a = v(p + 'a' + tag, 'f32');
    const js = Array.from({ length: cols }, (_, j) => j);
    return [
      ...js.map((j) => local(acc(j), 'f32', f32(0))),
      loop(p + 'k' + tag, g.K, [
        local(p + 'a' + tag, 'f32', load(g.a.buf, at(g.a, aOff, m, k))),
        ...js.map((j) => set(acc(j), add(v(acc(j), 'f32'), mul(a, load(g.b.buf, at(g.b, bOff, k, col(j))))))),
      ]),
      ...js.map((j) => {
        const bias = g.bias ? load(g.bias.buf, at(g.bias, biasOff, m, col(j))) : undefined;
        return store(g.c.buf, at(g.c, cOff, m, col(j)), epilogue(g, v(acc(j), 'f32'), bias));
      }),
    ];
  };
  const n4 = v(p + 'n4');
  const tail = v(p + 'nt');
  const full = g.N - (g.N % 4);
  return [
    off('a', g.a),
    off('b', g.b),
    off('c', g.c),
    ...(g.bias ? [off('bias', g.bias)] : []),
    loop(p + 'm', g.M, [
      loop(
        p + 'n4',
        full / 4,
        block(4, (j) => add(mul(n4, i32(4)), i32(j)), '4_'),
      ),
      loop(
        p + 'nt',
        g.N % 4,
        block(1, () => add(tail, i32(full)), '1_'),
      ),
    ]),
  ];
}

export function renderGemm(g: GemmStmt, emitter: KernelEmitter): string {
  if (g.int8) return renderInt8Gemm(g, emitter);
  checkViews(g);
  const form = simdGemmForm(g);
  if (form) return renderSimdGemm(g, emitter, form);
  return emitter.stmts(scalarGemm(g, emitter.label('gemm') + '.'));
}
