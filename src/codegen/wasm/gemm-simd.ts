/**
 * Register-tiled SIMD f32 GEMM for unit column strides in B and C: 4×8 micro-tiles (8 f32x4 accumulators),
 * k innermost, A[m,k] broadcast with f32x4.splat, B row segments with v128.load. N tails use 4-wide and
 * scalar tiles, M tails single-row tiles. Accumulation order per element is k = 0..K-1, as in the scalar
 * fallback, so both give identical results (except with relaxed fused multiply-add).
 */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import type { KernelEmitter } from './render.js';

/** Lane-generic instruction table, so the epilogue is written once for vectors and scalars. */
interface Lanes {
  add: string;
  mul: string;
  min: string;
  max: string;
  splat: (x: number) => string;
  load: string;
  store: string;
  width: number;
}
const VEC: Lanes = {
  add: 'f32x4.add',
  mul: 'f32x4.mul',
  min: 'f32x4.min',
  max: 'f32x4.max',
  splat: (x) => `(f32x4.splat (f32.const ${x}))`,
  load: 'v128.load',
  store: 'v128.store',
  width: 4,
};
const SCALAR: Lanes = {
  add: 'f32.add',
  mul: 'f32.mul',
  min: 'f32.min',
  max: 'f32.max',
  splat: (x) => `(f32.const ${x})`,
  load: 'f32.load',
  store: 'f32.store',
  width: 1,
};

/** `(op offset=k ptr)` when k is a valid immediate, else the byte offset added dynamically. */
function mem(op: string, ptr: string, bytes: number, ...rest: string[]): string {
  const tail = rest.length ? ' ' + rest.join(' ') : '';
  if (bytes >= 0) return `(${op} offset=${bytes} (local.get ${ptr})${tail})`;
  return `(${op} (i32.add (local.get ${ptr}) (i32.const ${bytes}))${tail})`;
}

const advance = (ptr: string, bytes: number): string =>
  bytes === 0 ? '' : `(local.set ${ptr} (i32.add (local.get ${ptr}) (i32.const ${bytes})))`;

export function canUseSimdGemm(g: GemmStmt): boolean {
  return g.b.cs === 1 && g.c.cs === 1;
}

export function renderSimdGemm(g: GemmStmt, e: KernelEmitter): string {
  const f32Bytes = 4;
  const pointer = (view: MatView, hint: string): [string, string] => {
    const local = e.temp('i32', hint);
    const { addr, offset } = e.address(view.buf, view.offset, `gemm ${hint}`);
    return [local, `(local.set ${local} (i32.add ${addr} (i32.const ${offset})))`];
  };
  const [aRow, setA] = pointer(g.a, 'a_row');
  const [bBase, setB] = pointer(g.b, 'b');
  const [cRow, setC] = pointer(g.c, 'c_row');
  const [biasRow, setBias] = g.bias ? pointer(g.bias, 'bias_row') : ['', ''];
  const [pa, pb, bCol, cCol, biasCol] = ['pa', 'pb', 'b_col', 'c_col', 'bias_col'].map((h) =>
    e.temp('i32', h),
  );
  const fma = e.program.relaxedSimd;

  const epilogue = (lanes: Lanes, acc: string, bias: string | undefined): string => {
    let v = g.alpha === 1 ? acc : `(${lanes.mul} ${acc} ${lanes.splat(g.alpha)})`;
    if (bias)
      v = `(${lanes.add} ${v} ${g.beta === 1 ? bias : `(${lanes.mul} ${bias} ${lanes.splat(g.beta)})`})`;
    if (g.act?.op === 'relu') v = `(${lanes.max} ${v} ${lanes.splat(0)})`;
    if (g.act?.op === 'clip')
      v = `(${lanes.min} (${lanes.max} ${v} ${lanes.splat(g.act.min)}) ${lanes.splat(g.act.max)})`;
    return v;
  };

  /** `lanes.width` bias values starting at row r, column j of the current tile. */
  const biasAt = (lanes: Lanes, r: number, col: number): string | undefined => {
    const bias = g.bias;
    if (!bias) return undefined;
    const at = (c: number) => r * bias.rs * f32Bytes + (col + c) * bias.cs * f32Bytes;
    if (lanes.width === 1 || bias.cs === 0) {
      const one = mem('f32.load', biasCol, at(0));
      return lanes.width === 1 ? one : `(f32x4.splat ${one})`;
    }
    if (bias.cs === 1) return mem('v128.load', biasCol, at(0));
    let v = `(f32x4.splat ${mem('f32.load', biasCol, at(0))})`;
    for (let c = 1; c < 4; c++) v = `(f32x4.replace_lane ${c} ${v} ${mem('f32.load', biasCol, at(c))})`;
    return v;
  };

  /** An R-row tile of `vecs` f32x4 columns (vecs = 0: one scalar column). */
  const tile = (rows: number, vecs: number): string => {
    const lanes = vecs === 0 ? SCALAR : VEC;
    const cols = Math.max(vecs, 1);
    const acc = Array.from({ length: rows }, () =>
      Array.from({ length: cols }, () => e.temp(vecs ? 'v128' : 'f32', 'acc')),
    );
    const bv = Array.from({ length: cols }, () => e.temp(vecs ? 'v128' : 'f32', 'bv'));
    const zero = vecs ? '(v128.const i32x4 0 0 0 0)' : '(f32.const 0)';
    const a = e.temp('f32', 'a');
    const kBody: string[] = [];
    bv.forEach((b, j) => kBody.push(`(local.set ${b} ${mem(lanes.load, pb, j * 16)})`));
    for (let r = 0; r < rows; r++) {
      const aLoad = mem('f32.load', pa, r * g.a.rs * f32Bytes);
      const aVal = vecs ? `(f32x4.splat ${aLoad})` : aLoad;
      const aLocal = vecs ? e.temp('v128', 'a') : a;
      kBody.push(`(local.set ${aLocal} ${aVal})`);
      acc[r].forEach((c, j) => {
        const product =
          fma && vecs
            ? `(f32x4.relaxed_madd (local.get ${aLocal}) (local.get ${bv[j]}) (local.get ${c}))`
            : `(${lanes.add} (local.get ${c}) (${lanes.mul} (local.get ${aLocal}) (local.get ${bv[j]})))`;
        kBody.push(`(local.set ${c} ${product})`);
      });
    }
    kBody.push(advance(pa, g.a.cs * f32Bytes), advance(pb, g.b.rs * f32Bytes));
    const k = e.temp('i32', 'k');
    const stores: string[] = [];
    for (let r = 0; r < rows; r++)
      acc[r].forEach((c, j) =>
        stores.push(
          mem(
            lanes.store,
            cCol,
            r * g.c.rs * f32Bytes + j * 16,
            epilogue(lanes, `(local.get ${c})`, biasAt(lanes, r, j * 4)),
          ),
        ),
      );
    return [
      ...acc.flat().map((c) => `(local.set ${c} ${zero})`),
      `(local.set ${pa} (local.get ${aRow})) (local.set ${pb} (local.get ${bCol}))`,
      e.countedLoop(k, g.K, kBody.join('\n')),
      ...stores,
    ].join('\n');
  };

  /** Every column of an R-row block: 8-wide tiles, then one 4-wide tile, then scalar columns. */
  const rowBlock = (rows: number): string => {
    const step = (cols: number) =>
      [
        advance(bCol, cols * f32Bytes),
        advance(cCol, cols * f32Bytes),
        g.bias ? advance(biasCol, cols * g.bias.cs * f32Bytes) : '',
      ].join(' ');
    const parts = [
      `(local.set ${bCol} (local.get ${bBase})) (local.set ${cCol} (local.get ${cRow}))`,
      g.bias ? `(local.set ${biasCol} (local.get ${biasRow}))` : '',
      e.countedLoop(e.temp('i32', 'n8'), Math.floor(g.N / 8), `${tile(rows, 2)}\n${step(8)}`),
    ];
    if (g.N % 8 >= 4) parts.push(tile(rows, 1), step(4));
    parts.push(e.countedLoop(e.temp('i32', 'n1'), g.N % 4, `${tile(rows, 0)}\n${step(1)}`));
    const nextRows = [
      advance(aRow, rows * g.a.rs * f32Bytes),
      advance(cRow, rows * g.c.rs * f32Bytes),
      g.bias ? advance(biasRow, rows * g.bias.rs * f32Bytes) : '',
    ];
    return [...parts, ...nextRows].join('\n');
  };

  return [
    setA,
    setB,
    setC,
    setBias,
    e.countedLoop(e.temp('i32', 'm4'), Math.floor(g.M / 4), rowBlock(4)),
    e.countedLoop(e.temp('i32', 'm1'), g.M % 4, rowBlock(1)),
  ].join('\n');
}
