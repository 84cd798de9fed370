/**
 * f64 math demoted to f32 where f32 precision is enough. A target without f64 (WGSL) accumulates in f32
 * where the wasm target uses f64 (the statistics of BatchNormalization, LayerNormalization, reductions,
 * pools), as GPUs and onnxruntime's WebGPU provider do, and computes on float64 tensors in f32 (their
 * storage stays 8-byte f64, so the memory layout is the wasm target's): results agree within float
 * tolerance, not bit for bit.
 */
import type { Expr, Stmt } from '../ir.js';
import { buffersOf, forEachExpr, mapExpr, mapStmtExprs, someExpr } from '../walk.js';

/** Buffers f32 can stand in for f64 next to: their values are f32-exact already. */
const F32_EXACT_DTYPES = new Set(['float32', 'float16']);

/** (an f64 local always has an f64 initial value, so looking at expressions finds it) */
function usesF64(s: Stmt): boolean {
  let found = false;
  forEachExpr(s, (e) => (found ||= e.t === 'f64'));
  return found;
}

const INTEGER = new Set(['i32', 'i64']);

/**
 * Where f32 cannot stand in for f64 next to integer or float64 buffers: an f64 value turned into an integer
 * (a cast or a comparison: f64 may be what keeps it exact), or one made from loop indices rather than from
 * memory (a DFT's angles 2πjk/L: f32 would lose them to absolute errors that cancelling sums make visible).
 */
function needsF64(s: Stmt): boolean {
  let found = false;
  forEachExpr(s, (e) => {
    if (e.k !== 'cast' && e.k !== 'cmp') return;
    found ||= e.a.t === 'f64' && INTEGER.has(e.t);
    found ||= e.k === 'cast' && e.t === 'f64' && INTEGER.has(e.a.t) && !someExpr(e.a, (x) => x.k === 'load');
  });
  return found;
}

const demoteExpr = (e: Expr): Expr => {
  const demoted = e.t === 'f64' ? ({ ...e, t: 'f32' } as Expr) : e;
  // a widening cast of an f32 value (loadAs('f64', ...)) has nothing left to do
  return demoted.k === 'cast' && demoted.a.t === demoted.t ? demoted.a : demoted;
};

function demoteStmt(s: Stmt): Stmt {
  switch (s.k) {
    case 'local':
      return { ...s, t: s.t === 'f64' ? 'f32' : s.t, init: mapExpr(s.init, demoteExpr) };
    case 'loop':
      return { ...s, body: s.body.map(demoteStmt) };
    case 'if':
      return {
        ...s,
        cond: mapExpr(s.cond, demoteExpr),
        then: s.then.map(demoteStmt),
        ...(s.else ? { else: s.else.map(demoteStmt) } : {}),
      };
    default:
      return mapStmtExprs(s, demoteExpr);
  }
}

/**
 * The kernel with its f64 math in f32. Where every buffer is float32 or float16, f64 only accumulates more
 * precisely. Next to float64 or integer buffers, f32 stands in for f64 while every f64 value ends in a
 * float and comes from memory (the error then stays relative, about 1e-7, in a float output, as a float64
 * tensor's values held in f32); a kernel that needs f64 (needsF64: Pow on integers, a quantized product,
 * DFT's twiddles) is refused rather than answered wrongly.
 */
export function demoteF64(body: Stmt[]): Stmt[] {
  if (!body.some(usesF64)) return body;
  const buffers = body.flatMap(buffersOf);
  const inexact = buffers.filter((b) => !F32_EXACT_DTYPES.has(b.dtype));
  if (inexact.length > 0 && body.some(needsF64)) {
    const named = inexact.find((b) => b.dtype !== 'float64') ?? inexact[0];
    throw new Error(
      `f64 values are not supported with the ${named.dtype} buffer #${named.id}: f32 stands in for f64 next ` +
        'to integer or float64 buffers only where no f64 value becomes an integer or is made from loop indices, ' +
        'as f64 may keep integers exact here',
    );
  }
  return body.map(demoteStmt);
}
