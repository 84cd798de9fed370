/**
 * GEMM as plain loops, for targets (or gemms) without a dedicated kernel: per row, the view offsets
 * evaluated once into locals, then blocks of `columns` output columns whose accumulators share each
 * A[m,k] load (k innermost), then single tail columns. Wide blocks suit a CPU (registers reuse the A
 * load); blocks of one leave a (row, column) loop nest whose iterations share nothing, which a GPU
 * target spreads over invocations.
 */
import type { Expr, GemmStmt, MatView, Stmt } from '../ir.js';
import { add, f32, i32, load, local, loop, mul, set, store, v } from '../build.js';
import { at, epilogue } from './epilogue.js';
import { flatMapGemms } from '../walk.js';

/** The gemm as loops; every name it declares starts with `prefix` (unique within the kernel). */
export function gemmToLoops(g: GemmStmt, prefix: string, columns: number): Stmt[] {
  if (g.packedB) throw new Error('internal: a gemm whose B is packed in panels has no loop form');
  const p = prefix;
  const off = (name: string, view: MatView): Stmt => local(p + name, 'i32', view.offset);
  const [aOff, bOff, cOff, biasOff, residualOff] = ['a', 'b', 'c', 'bias', 'residual'].map((name) =>
    v(p + name),
  );
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
        local(p + 'a' + tag, 'f32', load(g.a.buf, at(g.a, m, k, aOff))),
        ...js.map((j) => set(acc(j), add(v(acc(j), 'f32'), mul(a, load(g.b.buf, at(g.b, k, col(j), bOff)))))),
      ]),
      ...js.map((j) => {
        const bias = g.bias ? load(g.bias.buf, at(g.bias, m, col(j), biasOff)) : undefined;
        const residual = g.residual && load(g.residual.buf, at(g.residual, m, col(j), residualOff));
        return store(g.c.buf, at(g.c, m, col(j), cOff), epilogue(g, v(acc(j), 'f32'), bias, residual));
      }),
    ];
  };
  const blocks = v(p + 'nb');
  const tail = v(p + 'nt');
  const full = g.N - (g.N % columns);
  const tag = `${columns}_`;
  return [
    loop(p + 'm', g.M, [
      off('a', g.a),
      off('b', g.b),
      off('c', g.c),
      ...(g.bias ? [off('bias', g.bias)] : []),
      ...(g.residual ? [off('residual', g.residual)] : []),
      ...(full > 0
        ? [
            loop(
              p + 'nb',
              full / columns,
              block(columns, (j) => (columns === 1 ? blocks : add(mul(blocks, i32(columns)), i32(j))), tag),
            ),
          ]
        : []),
      ...(full < g.N
        ? [
            loop(
              p + 'nt',
              g.N - full,
              block(1, () => add(tail, i32(full)), 't_'),
            ),
          ]
        : []),
    ]),
  ];
}

/**
 * The gemms of `body` that `which` picks (nested ones included), as loops of `columns`-wide blocks named
 * gemm0., gemm1., …
 */
export function gemmsToLoops(
  body: Stmt[],
  columns: number,
  which: (g: GemmStmt) => boolean = () => true,
): Stmt[] {
  let count = 0;
  return flatMapGemms(body, (g) => (which(g) ? gemmToLoops(g, `gemm${count++}.`, columns) : [g]));
}
