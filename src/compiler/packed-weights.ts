/**
 * Constant B operands of the float32 gemms packed at compile time: a weight that only gemms read, each
 * as its whole row-major K×N B in the wasm broadcast form, is stored in weights.bin in the panel layout
 * that form's microkernel reads (kernels/b-panels.ts), and those gemms are marked `packedB`, so they read
 * the panels in place instead of packing them into scratch on every run. The weight keeps its size
 * (K·N floats, listed 1-D in the manifest). For the wasm target only: the WGSL gemm reads B row-major.
 */
import type { HostTensor } from '../ir/tensor.js';
import type { GemmStmt, Kernel, Stmt } from '../kernels/ir.js';
import { B_PANEL, packBPanels } from '../kernels/b-panels.js';
import { forEachStmt, gemmViews, ownExprs, visitExpr } from '../kernels/walk.js';
import { simdGemmForm } from '../codegen/wasm/gemm-simd.js';

/** Whether `g` reads its B as one whole row-major K×N float32 matrix through the broadcast form's panels. */
function readsWholeB(g: GemmStmt): boolean {
  const { b } = g;
  return (
    !g.int8 &&
    !g.streamB &&
    g.N >= B_PANEL &&
    b.buf.dtype === 'float32' &&
    b.buf.length === g.K * g.N &&
    b.offset.k === 'const' &&
    b.offset.v === 0 &&
    b.rs === g.N &&
    b.cs === 1 &&
    simdGemmForm(g) === 'broadcast'
  );
}

/** The buffers (by id) among `candidates` that `kernels` read only as a gemm's whole B, with its K and N. */
function gemmOnlyWeights(kernels: Kernel[], candidates: ReadonlySet<number>): Map<number, [number, number]> {
  const shapes = new Map<number, [number, number]>();
  const refused = new Set<number>();
  const use = (id: number, shape?: [number, number]) => {
    if (!candidates.has(id)) return;
    const seen = shapes.get(id);
    if (!shape || (seen && (seen[0] !== shape[0] || seen[1] !== shape[1]))) refused.add(id);
    else shapes.set(id, shape);
  };
  const visit = (s: Stmt) => {
    if (s.k === 'store') use(s.buf.id);
    if (s.k === 'gemm')
      for (const view of gemmViews(s))
        use(view.buf.id, view === s.b && readsWholeB(s) ? [s.K, s.N] : undefined);
    for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === 'load' && use(x.buf.id));
  };
  for (const k of kernels) for (const s of k.body) forEachStmt(s, visit);
  for (const id of refused) shapes.delete(id);
  return shapes;
}

/** `body` with the gemms reading a B of `packed` marked `packedB`. */
function markPacked(body: Stmt[], packed: ReadonlySet<number>): Stmt[] {
  return body.map((s): Stmt => {
    if (s.k === 'loop') return { ...s, body: markPacked(s.body, packed) };
    if (s.k === 'if')
      return {
        ...s,
        then: markPacked(s.then, packed),
        ...(s.else && { else: markPacked(s.else, packed) }),
      };
    if (s.k === 'gemm' && packed.has(s.b.buf.id)) return { ...s, packedB: true };
    return s;
  });
}

/**
 * Packs the float32 `weights` (buffer id → its tensor) that `kernels` read only as a gemm's whole B.
 * Returns the kernels with those gemms marked (new objects, in the same order, when any weight is packed)
 * and the packed tensors by buffer id (1-D, as many floats).
 */
export function packGemmWeights(
  kernels: Kernel[],
  weights: ReadonlyMap<number, HostTensor>,
): { kernels: Kernel[]; packed: Map<number, HostTensor> } {
  const floats = new Set([...weights].filter(([, t]) => t.dtype === 'float32').map(([id]) => id));
  const shapes = gemmOnlyWeights(kernels, floats);
  const packed = new Map<number, HostTensor>(
    [...shapes].map(([id, [K, N]]) => {
      const data = packBPanels(weights.get(id)!.data as Float32Array, K, N);
      return [id, { dtype: 'float32', dims: [K * N], data }];
    }),
  );
  if (packed.size === 0) return { kernels, packed };
  const ids = new Set(packed.keys());
  return { kernels: kernels.map((k) => ({ ...k, body: markPacked(k.body, ids) })), packed };
}
