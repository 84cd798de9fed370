/**
 * The gemm shader: C = act(alpha·A·B + beta·bias), float32. Each workgroup computes a 16×16 tile of C,
 * each of its 64 invocations one row of 4 columns; A and B pass through workgroup memory 16 k at a time.
 */
import type { GemmStmt, MatView } from '../../kernels/ir.js';
import { v } from '../../kernels/build.js';
import { epilogue } from '../../kernels/rewrite/epilogue.js';
import { ENTRY_PARAMS, KernelEmitter, type RenderedEntry } from './render.js';
import type { MemoryBindings } from './bindings.js';

const TILE = 16;
const MAX_GROUPS_PER_DIMENSION = 65535;

/** Whether the shader can run this gemm: float32 views, a grid within limits, C apart from A, B and bias. */
export function tiledGemmFits(g: GemmStmt, offsets: ReadonlyMap<number, number>): boolean {
  const views = [g.a, g.b, g.c, ...(g.bias ? [g.bias] : [])];
  if (views.some((view) => view.buf.dtype !== 'float32')) return false;
  if (Math.ceil(g.N / TILE) > MAX_GROUPS_PER_DIMENSION || Math.ceil(g.M / TILE) > MAX_GROUPS_PER_DIMENSION)
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
    `${base} + (${r}) * ${view.rs}i + (${c}) * ${view.cs}i`;
  emitter.alias('acc', 'acc[j]', 'f32');
  if (g.bias) emitter.alias('bias', `bitcast<f32>(${bias!.read(at(g.bias, 'bias0', 'm', 'n'))})`, 'f32');
  const value = emitter.expr(epilogue(g, v('acc', 'f32'), g.bias ? v('bias', 'f32') : undefined));
  const [tileA, tileB] = [`${entry}_a`, `${entry}_b`];
  const code = `var<workgroup> ${tileA}: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> ${tileB}: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(64)
fn ${entry}(${ENTRY_PARAMS}) {
  let a0 = ${word(g.a, a.base)};
  let b0 = ${word(g.b, b.base)};
  let c0 = ${word(g.c, c.base)};
${g.bias ? `  let bias0 = ${word(g.bias, bias!.base)};\n` : ''}  let row = i32(lane / 4u);
  let col = i32(lane % 4u) * 4;
  let m = i32(wid.y) * ${TILE} + row;
  let n0 = i32(wid.x) * ${TILE} + col;
  var acc = array<f32, 4>(0.0f, 0.0f, 0.0f, 0.0f);
  for (var k0 = 0i; k0 < ${g.K}i; k0 += ${TILE}i) {
    for (var j = 0i; j < 4i; j++) {
      let e = i32(lane) + j * 64;
      let r = e / ${TILE};
      let c = e % ${TILE};
      let am = i32(wid.y) * ${TILE} + r;
      let bn = i32(wid.x) * ${TILE} + c;
      var a = 0.0f;
      var b = 0.0f;
      if (am < ${g.M}i && k0 + c < ${g.K}i) { a = bitcast<f32>(${a.read(at(g.a, 'a0', 'am', 'k0 + c'))}); }
      if (bn < ${g.N}i && k0 + r < ${g.K}i) { b = bitcast<f32>(${b.read(at(g.b, 'b0', 'k0 + r', 'bn'))}); }
      ${tileA}[r][c] = a;
      ${tileB}[r][c] = b;
    }
    workgroupBarrier();
    for (var k = 0i; k < ${TILE}i; k++) {
      let a = ${tileA}[row][k];
      for (var j = 0i; j < 4i; j++) { acc[j] = acc[j] + a * ${tileB}[k][col + j]; }
    }
    workgroupBarrier();
  }
  for (var j = 0i; j < 4i; j++) {
    let n = n0 + j;
    if (m < ${g.M}i && n < ${g.N}i) { ${c.write(at(g.c, 'c0', 'm', 'n'), `bitcast<u32>(${value})`)} }
  }
}`;
  return {
    code,
    workgroups: [Math.ceil(g.N / TILE), Math.ceil(g.M / TILE), 1],
    bindings: emitter.bindings(),
  };
}
