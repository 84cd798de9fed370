/**
 * f64 math demoted to f32 where it only buys accumulation precision. A target without f64 (WGSL)
 * accumulates in f32 where the wasm target uses f64 (the statistics of BatchNormalization,
 * LayerNormalization, reductions, pools), as GPUs and onnxruntime's WebGPU provider do: results agree
 * within float tolerance, not bit for bit.
 */
import type { Expr, Stmt } from '../ir.js';
import { buffersOf, forEachExpr, mapExpr, mapStmtExprs } from '../walk.js';

/** Buffers f32 can stand in for f64 next to: their values are f32-exact already. */
const F32_EXACT_DTYPES = new Set(['float32', 'float16']);

/** (an f64 local always has an f64 initial value, so looking at expressions finds it) */
function usesF64(s: Stmt): boolean {
  let found = false;
  forEachExpr(s, (e) => (found ||= e.t === 'f64'));
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
 * The kernel with its f64 math in f32, when every buffer it loads or stores is float32 or float16: there
 * f64 only accumulates more precisely. Next to integer or 64-bit buffers f64 may be keeping integers
 * exact (an int32 or int64 sum, a float64 tensor), so such a kernel is refused rather than answered wrongly.
 */
export function demoteF64(body: Stmt[]): Stmt[] {
  if (!body.some(usesF64)) return body;
  const buffers = body.flatMap(buffersOf);
  // float64 buffers are refused when emitted, naming the buffer: that is the more basic problem
  if (buffers.some((b) => b.dtype === 'float64')) return body;
  const integer = buffers.find((b) => !F32_EXACT_DTYPES.has(b.dtype));
  if (integer)
    throw new Error(
      `f64 values are not supported with the ${integer.dtype} buffer #${integer.id}: f32 stands in for f64 only ` +
        'in kernels whose buffers are all float32/float16, as f64 may keep integers exact here',
    );
  return body.map(demoteStmt);
}
