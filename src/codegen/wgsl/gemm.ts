/**
 * The gemm shader: C = act(alpha·A·B + beta·bias), float32. Each workgroup of 64 invocations computes a tile
 * of C, each invocation a block of it held in registers; A and B pass through workgroup memory TK k at a
 * time, each element loaded once per workgroup and used by every invocation in its row or column of blocks.
 * Gemms with 64 rows and columns or more take 64×64 tiles of 8×8 blocks (an element of A or B read from
 * workgroup memory feeds 8 multiply-adds); smaller ones 16×16 tiles of 1×4 blocks, which waste less on
 * their edges.
 */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import { v } from '../../kernels/build.js';
import { epilogue } from '../../kernels/rewrite/epilogue.js';
import { ENTRY_PARAMS, KernelEmitter, type RenderedEntry } from './render.js';
import type { MemoryBindings } from './bindings.js';

/** A tile shape: TM×TN outputs a workgroup, RM×RN an invocation ((TM/RM)·(TN/RN) = 64), TK k a step. */
interface Tiling {
  TM: number;
  TN: number;
  RM: number;
  RN: number;
  TK: number;
}

const SMALL: Tiling = { TM: 16, TN: 16, RM: 1, RN: 4, TK: 16 };
const LARGE: Tiling = { TM: 64, TN: 64, RM: 8, RN: 8, TK: 16 };
const INVOCATIONS = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

const tilingOf = (g: GemmStmt): Tiling => (g.M >= LARGE.TM && g.N >= LARGE.TN ? LARGE : SMALL);

/** Whether the shader can run this gemm: float32 views, a grid within limits, C apart from A, B and bias. */
export function tiledGemmFits(g: GemmStmt, offsets: ReadonlyMap<number, number>): boolean {
  const views = [g.a, g.b, g.c, ...(g.bias ? [g.bias] : [])];
  if (views.some((view) => view.buf.dtype !== 'float32')) return false;
  const { TM, TN } = tilingOf(g);
  if (Math.ceil(g.N / TN) > MAX_GROUPS_PER_DIMENSION || Math.ceil(g.M / TM) > MAX_GROUPS_PER_DIMENSION)
    return false;
  const region = (view: MatView) => {
    const start = offsets.get(view.buf.id) ?? NaN;
    return [start, start + view.buf.length * 4];
  };
  const [c0, c1] = region(g.c);
  // a C that aliases an input would be read after other workgroups wrote it
  return views
    .slice(0, 2)
    .concat(g.bias ? [g.bias] : [])
    .every((view) => {
      const [s, e] = region(view);
      return e <= c0 || c1 <= s;
    });
}

export function renderTiledGemm(
  g: GemmStmt,
  entry: string,
  offsets: ReadonlyMap<number, number>,
  dims: ReadonlyMap<string, number>,
  memory: MemoryBindings,
): RenderedEntry {
  const emitter = new KernelEmitter(offsets, dims, memory);
  const [a, b, c] = [
    emitter.words(g.a.buf, false, 'load from'),
    emitter.words(g.b.buf, false, 'load from'),
    emitter.words(g.c.buf, true, 'store to'),
  ];
  const bias = g.bias && emitter.words(g.bias.buf, false, 'load from');
  const word = (view: MatView, base: number) => `(${base}i + ${emitter.expr(view.offset)})`;
  /** word of element (r, c) of a view from its access's base, with r and c WGSL i32 expressions */
  const at = (view: MatView, base: string, r: string, c: string) =>
    `${base} + (${r}) * ${typeof view.rs === 'number' ? `${view.rs}i` : `(${emitter.expr(view.rs)})`} + (${c}) * ${view.cs}i`;
  const { TM, TN, RM, RN, TK } = tilingOf(g);
  const across = TN / RN;
  emitter.alias('acc', 'acc[q]', 'f32');
  if (g.bias) emitter.alias('bias', `bitcast<f32>(${bias!.read(at(g.bias, 'bias0', 'm', 'n'))})`, 'f32');
  const value = emitter.expr(epilogue(g, v('acc', 'f32'), g.bias ? v('bias', 'f32') : undefined));
  const [tileA, tileB] = [`${entry}_a`, `${entry}_b`];
  const code = `var<workgroup> ${tileA}: array<array<f32, ${TK}>, ${TM}>;
var<workgroup> ${tileB}: array<array<f32, ${TN}>, ${TK}>;
@compute @workgroup_size(${INVOCATIONS})
fn ${entry}(${ENTRY_PARAMS}) {
  let a0 = ${word(g.a, a.base)};
  let b0 = ${word(g.b, b.base)};
  let c0 = ${word(g.c, c.base)};
${g.bias ? `  let bias0 = ${word(g.bias, bias!.base)};\n` : ''}  let row = i32(lane / ${across}u) * ${RM};
  let col = i32(lane % ${across}u) * ${RN};
  let m0 = i32(wid.y) * ${TM};
  let n0 = i32(wid.x) * ${TN};
  var acc: array<f32, ${RM * RN}>;
  var a: array<f32, ${RM}>;
  for (var k0 = 0i; k0 < ${g.K}i; k0 += ${TK}i) {
    for (var j = 0i; j < ${(TM * TK) / INVOCATIONS}i; j++) {
      let e = i32(lane) + j * ${INVOCATIONS};
      let r = e / ${TK};
      let c = e % ${TK};
      var x = 0.0f;
      if (m0 + r < ${g.M}i && k0 + c < ${g.K}i) { x = bitcast<f32>(${a.read(at(g.a, 'a0', 'm0 + r', 'k0 + c'))}); }
      ${tileA}[r][c] = x;
    }
    for (var j = 0i; j < ${(TK * TN) / INVOCATIONS}i; j++) {
      let e = i32(lane) + j * ${INVOCATIONS};
      let r = e / ${TN};
      let c = e % ${TN};
      var x = 0.0f;
      if (n0 + c < ${g.N}i && k0 + r < ${g.K}i) { x = bitcast<f32>(${b.read(at(g.b, 'b0', 'k0 + r', 'n0 + c'))}); }
      ${tileB}[r][c] = x;
    }
    workgroupBarrier();
    for (var k = 0i; k < ${TK}i; k++) {
      for (var i = 0i; i < ${RM}i; i++) { a[i] = ${tileA}[row + i][k]; }
      for (var j = 0i; j < ${RN}i; j++) {
        let b = ${tileB}[k][col + j];
        for (var i = 0i; i < ${RM}i; i++) { acc[i * ${RN} + j] = acc[i * ${RN} + j] + a[i] * b; }
      }
    }
    workgroupBarrier();
  }
  for (var q = 0i; q < ${RM * RN}i; q++) {
    let m = m0 + row + q / ${RN};
    let n = n0 + col + q % ${RN};
    if (m < ${g.M}i && n < ${g.N}i) { ${c.write(at(g.c, 'c0', 'm', 'n'), `bitcast<u32>(${value})`)} }
  }
}`;
  return {
    code,
    workgroups: [Math.ceil(g.N / TN), Math.ceil(g.M / TM), 1],
    bindings: emitter.bindings(),
  };
}
