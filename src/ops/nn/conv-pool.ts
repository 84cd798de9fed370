/**
 * A 2-D Conv or kiln.Int8Conv (its Relu/Clip fused) whose only reader is a MaxPool, fused on the wasm
 * target (passes/fuse-conv-pool.ts): the conv's output is computed band by band of rows into a scratch
 * band that the pool reads at once, so the whole conv output never exists. A network's first conv has
 * the largest output (SqueezeNet's: 3 MiB, 64 × 111², the arena's peak; ResNet-50's: 3.1 MiB); the band
 * is about BAND_BYTES.
 *
 * The node carries the MaxPool in its `kiln_pool` attribute (a one-node Graph, as `kiln_fused` carries
 * its activation) and writes the pool's output. Pool output rows split into pieces, each a kernel: the
 * rows whose windows start in the top padding, then bands of P rows whose windows lie inside the conv
 * output (one loop), then the rest. A piece computes the conv rows its windows read (consecutive bands
 * share (k − 1)·d + 1 − s rows, computed again: 1 row in 17 for SqueezeNet's 3×3 stride-2 pool), then
 * pools them as MaxPool does (window-runs.ts: no bounds checks, interior vectorized).
 */
import type { Graph, Node, TensorType } from '../../ir/graph.js';
import type { BufRef, Expr, Kernel, Stmt } from '../../kernels/ir.js';
import { add, i32, load, loop, mul, v } from '../../kernels/build.js';
import { contextOf, type LowerIO, type OpContext } from '../registry.js';
import type { ConvGeometry } from './conv-geometry.js';
import type { ConvRows } from './conv-rows.js';
import { maxOfTaps, maxPoolGeometry } from './pool.js';
import { windowPlane2d, windowRunsFit } from './window-runs.js';
import type { Window } from './window.js';

const POOL_ATTR = 'kiln_pool';

/** About this many bytes of conv output (and im2col band) per band of pool rows. */
const BAND_BYTES = 512 << 10;

/** The MaxPool fused into a conv node, if any. */
export function pooledBy(node: Node): Graph | undefined {
  const g = node.attrs[POOL_ATTR] as Graph | undefined;
  return g && 'nodes' in g ? g : undefined;
}

/** `conv` with `pool` (a MaxPool reading its output alone) fused into it: it writes the pool's output. */
export function withPool(graph: Graph, conv: Node, pool: Node): Node {
  const names = [conv.outputs[0], pool.outputs[0]];
  const body: Graph = {
    name: `pool ${pool.name}`,
    inputs: [],
    outputs: [{ name: pool.outputs[0], ...graph.types.get(pool.outputs[0])! }],
    initializers: new Map(),
    nodes: [{ ...pool, outputs: [pool.outputs[0]] }],
    opsets: graph.opsets,
    types: new Map(names.map((n) => [n, graph.types.get(n)!])),
  };
  return { ...conv, outputs: [pool.outputs[0]], attrs: { ...conv.attrs, [POOL_ATTR]: body } };
}

/** The fused MaxPool's window over the conv's output (of type `convOut`), checked as MaxPool checks it. */
export function poolWindow(body: Graph, convOut: TensorType): Window {
  const pool = body.nodes[0];
  const ctx: OpContext = {
    ...contextOf(
      pool,
      body.opsets,
      () => undefined,
      () => undefined,
    ),
    inputs: [convOut],
    consts: [undefined],
  };
  return maxPoolGeometry(ctx).window;
}

/** The fused node's output type: the pool's over the conv's output. */
export function pooledType(body: Graph, convOut: TensorType): TensorType {
  const [N, M] = convOut.shape as number[];
  return { dtype: convOut.dtype, shape: [N, M, ...poolWindow(body, convOut).out] };
}

/** Whether a MaxPool window over a conv output of `convOut` spatial sizes lowers band by band here. */
export function bandsFit(pool: Window, convOut: number[]): boolean {
  return pool.kernel.length === 2 && windowRunsFit(pool, convOut);
}

/** Conv rows [lo, hi) that pool output rows [a, a + count) read. */
function convRowsOf(pool: Window, Hc: number, a: number, count: number): [number, number] {
  const [s, p, d, k] = [pool.strides[0], pool.padBegin[0], pool.dilations[0], pool.kernel[0]];
  return [Math.max(0, a * s - p), Math.min(Hc, (a + count - 1) * s - p + (k - 1) * d + 1)];
}

/**
 * The fused node's kernels: `conv(most)` makes the conv's row producer for bands of `most` rows at most
 * (conv-rows.ts), which takes `scratchPerRow` bytes of scratch per row of the band besides (im2col's
 * matrix; none for the panel lowering, whose panel is of a fixed size); Y is the pool's output.
 */
export function convPoolKernels(
  name: string,
  g: ConvGeometry,
  pool: Window,
  conv: (most: number) => ConvRows,
  scratchPerRow: number,
  Y: BufRef,
  io: LowerIO,
): Kernel[] {
  const { N, M, window: cw } = g;
  const [Hc, Wc] = cw.out;
  const [Hp, Wp] = pool.out;
  const [s, p, d, k] = [pool.strides[0], pool.padBegin[0], pool.dilations[0], pool.kernel[0]];
  // pool rows [first, last) read whole windows of conv rows, none in the padding or past the end
  const first = Math.min(Hp, Math.ceil(p / s));
  const last = Math.max(first, Math.min(Hp, Math.floor((Hc - (k - 1) * d - 1 + p) / s) + 1));
  // the bands' sizes set how many conv rows are computed twice (those that consecutive bands share): a
  // panel conv's band counted as im2col's (ResNet-50's 7×7 stem: 2 pool rows from 5 conv rows) computed
  // one conv row in 5 twice, one in 17 when counted as its own
  const rowBytes = M * Wc * 4 + scratchPerRow;
  const bandHeight = (P: number) => (P - 1) * s + (k - 1) * d + 1;
  let P = 1;
  while (P < last - first && bandHeight(P + 1) * rowBytes <= BAND_BYTES) P++;
  const bands = Math.floor((last - first) / P);
  // static pieces: [pool row a, count]
  const pieces: [number, number][] = [];
  if (first > 0) pieces.push([0, first]);
  const rest = first + bands * P;
  if (rest < Hp) pieces.push([rest, Hp - rest]);
  const heights = pieces.map(([a, count]) => {
    const [lo, hi] = convRowsOf(pool, Hc, a, count);
    return hi - lo;
  });
  const most = Math.max(bands > 0 ? bandHeight(P) : 0, ...heights);
  const rows = conv(most);
  const band = io.scratch('float32', M * most * Wc);
  const n = v('n');
  /**
   * one kernel: conv rows [lo, lo + height) of each image into the band, then pool rows [a, a + count)
   * from it; `top`, the padding rows above the band that the first window starts in
   */
  const piece = (
    suffix: string,
    lo: Expr,
    height: number,
    a: Expr,
    count: number,
    top: number,
    outer: (body: Stmt[]) => Stmt[],
  ): Kernel => {
    const window: Window = { ...pool, padBegin: [top, pool.padBegin[1]], out: [count, Wp] };
    const plane = height * Wc;
    const runs = windowPlane2d(
      window,
      [height, Wc],
      (run) => [mul(v(`m${run}`), i32(plane))],
      Y,
      (run) => [mul(n, i32(M * Hp * Wp)), mul(v(`m${run}`), i32(Hp * Wp)), mul(a, i32(Wp))],
      (o) => {
        const xs: Expr[] = [];
        for (let i = o.rows.taps[0]; i < o.rows.taps[1]; i++)
          for (let j = o.cols.taps[0]; j < o.cols.taps[1]; j++) xs.push(load(band, o.at(i, j)));
        return maxOfTaps(xs, 'float32');
      },
      undefined,
      undefined,
      'overlapping',
    );
    const body = outer([
      ...rows.rows(n, lo, height, { buf: band, at: i32(0), ld: plane }),
      ...runs.map((r, run) => loop(`m${run}`, M, r)),
    ]);
    return { name: `${name}${suffix}`, body: [loop('n', N, body)] };
  };
  const kernels: Kernel[] = [];
  const staticPiece = ([a, count]: [number, number]) => {
    const [lo, hi] = convRowsOf(pool, Hc, a, count);
    return piece(` rows ${a}..${a + count}`, i32(lo), hi - lo, i32(a), count, p - a * s + lo, (b) => b);
  };
  if (first > 0) kernels.push(staticPiece(pieces[0]));
  if (bands > 0) {
    const b = v('band');
    const a = add(mul(b, i32(P)), i32(first));
    const lo = add(mul(b, i32(P * s)), i32(first * s - p));
    const body = (stmts: Stmt[]) => [loop('band', bands, stmts)];
    kernels.push(piece(' bands', lo, bandHeight(P), a, P, 0, body));
  }
  if (rest < Hp) kernels.push(staticPiece(pieces[pieces.length - 1]));
  // one piece (the conv output fits one band): the node's own name, as the unfused conv had
  return kernels.length === 1 ? [{ ...kernels[0], name }] : kernels;
}
