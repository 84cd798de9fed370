/**
 * Constant B operands of the float32 gemms packed at compile time: a weight that only gemms read, each
 * as its whole row-major K×N B in the wasm broadcast form, is stored in weights.bin in the panel layout
 * that form's microkernel reads (kernels/b-panels.ts), and those gemms are marked `packedB`, so they read
 * the panels in place instead of packing them into scratch on every run. The weight keeps its size
 * (K·N floats, listed 1-D in the manifest). For the wasm target only: the WGSL gemm reads B row-major.
 * Where the gemms reading a weight agree on K blocks (codegen/wasm/gemm-k-blocks.ts), each block is packed
 * on its own and the gemms are split here, as the wasm rewrite splits gemms over a B packed at run time.
 */
import type { HostTensor } from '../ir/tensor.js';
import type { GemmStmt, Kernel, Stmt } from '../kernels/ir.js';
import { MIN_PANEL_N, packBPanelBlocks } from '../kernels/b-panels.js';
import { flatMapGemms, forEachStmt, gemmViews, ownExprs, visitExpr } from '../kernels/walk.js';
import { simdGemmForm } from '../codegen/wasm/gemm-simd.js';
import { blockBounds, kBlockRows, splitK } from '../codegen/wasm/gemm-k-blocks.js';

/** Whether `g` reads its B as one whole row-major K×N float32 matrix through the broadcast form's panels. */
function readsWholeB(g: GemmStmt): boolean {
  const { b } = g;
  return (
    !g.int8 &&
    !g.streamB &&
    g.N >= MIN_PANEL_N &&
    b.buf.dtype === 'float32' &&
    b.buf.length === g.K * g.N &&
    b.offset.k === 'const' &&
    b.offset.v === 0 &&
    b.rs === g.N &&
    b.cs === 1 &&
    simdGemmForm(g) === 'broadcast'
  );
}

/** How a weight is read as a whole B: its K and N, and the K rows per block (K: one block). */
interface WholeB {
  K: number;
  N: number;
  rows: number;
}

/**
 * The buffers (by id) among `candidates` that `kernels` read only as a gemm's whole B, with its K and N,
 * and the K blocks its gemms agree on (one block where they do not).
 */
function gemmOnlyWeights(kernels: Kernel[], candidates: ReadonlySet<number>): Map<number, WholeB> {
  const shapes = new Map<number, WholeB>();
  const refused = new Set<number>();
  const use = (id: number, read?: WholeB) => {
    if (!candidates.has(id)) return;
    const seen = shapes.get(id);
    if (!read || (seen && (seen.K !== read.K || seen.N !== read.N))) refused.add(id);
    else if (seen && seen.rows !== read.rows) shapes.set(id, { ...read, rows: read.K });
    else shapes.set(id, read);
  };
  const visit = (s: Stmt) => {
    if (s.k === 'store') use(s.buf.id);
    if (s.k === 'gemm')
      for (const view of gemmViews(s))
        use(
          view.buf.id,
          view === s.b && readsWholeB(s) ? { K: s.K, N: s.N, rows: kBlockRows(s) ?? s.K } : undefined,
        );
    for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === 'load' && use(x.buf.id));
  };
  for (const k of kernels) for (const s of k.body) forEachStmt(s, visit);
  for (const id of refused) shapes.delete(id);
  return shapes;
}

/** `body` with the gemms reading a B of `packed` marked `packedB`, split into the K blocks it was packed in. */
function markPacked(body: Stmt[], packed: ReadonlyMap<number, WholeB>): Stmt[] {
  let count = 0;
  return flatMapGemms(body, (g) => {
    const read = packed.get(g.b.buf.id);
    if (!read) return [g];
    const marked: GemmStmt = { ...g, packedB: true };
    return read.rows < read.K ? splitK(marked, read.rows, `packed_kblocks${count++}`) : [marked];
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
    [...shapes].map(([id, { K, N, rows }]) => {
      const data = packBPanelBlocks(weights.get(id)!.data as Float32Array, N, blockBounds(K, rows));
      return [id, { dtype: 'float32', dims: [K * N], data }];
    }),
  );
  if (packed.size === 0) return { kernels, packed };
  return { kernels: kernels.map((k) => ({ ...k, body: markPacked(k.body, shapes) })), packed };
}
