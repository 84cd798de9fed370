/** Rendering of the GEMM statement: C = act(alpha * A·B + beta * Bias), float32. */
import type { Activation, Expr, GemmStmt, MatView, Stmt } from '../../kernels/ir.js';
import { add, f32, i32, load, local, loop, max, min, mul, store, v } from '../../kernels/build.js';
import type { KernelEmitter } from './render.js';
import { canUseSimdGemm, renderSimdGemm } from './gemm-simd.js';

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

/** alpha·acc + beta·bias, then the activation: the part every gemm variant shares, as Kernel IR. */
export function epilogue(g: GemmStmt, acc: Expr, bias: Expr | undefined): Expr {
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
 * The general (any strides) GEMM as plain Kernel IR loops: the view offsets are evaluated once into locals,
 * then m, n, k loops with k innermost.
 */
export function scalarGemm(g: GemmStmt, prefix: string): Stmt[] {
  const p = prefix;
  const off = (name: string, view: MatView): Stmt => local(p + name, 'i32', view.offset);
  const [m, n, k] = [v(p + 'm'), v(p + 'n'), v(p + 'k')];
  const [aOff, bOff, cOff, biasOff] = ['a', 'b', 'c', 'bias'].map((name) => v(p + name));
  const acc = v(p + 'acc', 'f32');
  const bias = g.bias ? load(g.bias.buf, at(g.bias, biasOff, m, n)) : undefined;
  return [
    off('a', g.a),
    off('b', g.b),
    off('c', g.c),
    ...(g.bias ? [off('bias', g.bias)] : []),
    loop(p + 'm', g.M, [
      loop(p + 'n', g.N, [
        local(p + 'acc', 'f32', f32(0)),
        loop(p + 'k', g.K, [
          {
            k: 'set',
            name: p + 'acc',
            value: add(acc, mul(load(g.a.buf, at(g.a, aOff, m, k)), load(g.b.buf, at(g.b, bOff, k, n)))),
          },
        ]),
        store(g.c.buf, at(g.c, cOff, m, n), epilogue(g, acc, bias)),
      ]),
    ]),
  ];
}

export function renderGemm(g: GemmStmt, emitter: KernelEmitter): string {
  checkViews(g);
  if (canUseSimdGemm(g)) return renderSimdGemm(g, emitter);
  return emitter.stmts(scalarGemm(g, emitter.label('gemm') + '.'));
}
