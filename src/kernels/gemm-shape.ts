/**
 * The matrix product a kernel computes, read off its Kernel IR, so the profiler can tell GEMM-bound layers
 * from memory-bound ones (src/cli/profile/gemm-bound.ts). Each float32 gemm statement is one product
 * M×N×K, except that a gemm adding into its own output (its bias operand is its C view's buffer: the taps
 * of conv-shifted.ts after the first) continues the product before it, whose K grows by its K for each time
 * it runs per run of that product. The kernel's shape is its product with the most FLOPs (loop trips
 * counted as in flops.ts). int8 gemms are left out: their peak is not the f32 one.
 */
import type { Kernel, ShapeSymbol, Stmt } from './ir.js';
import { extentRange, rangesOf, type SymbolRanges } from './extent.js';

export interface GemmShape {
  M: number;
  N: number;
  K: number;
}

interface Product extends GemmShape {
  /** runs per kernel run */
  trips: number;
  /** the buffer its C view writes */
  out: number;
}

/** The kernel's largest float32 matrix product, or undefined when it has no gemm statement. */
export function dominantGemm(kernel: Kernel, symbols: readonly ShapeSymbol[] = []): GemmShape | undefined {
  const products: Product[] = [];
  collect(kernel.body, 1, rangesOf(symbols), products);
  let best: Product | undefined;
  const flops = (p: Product) => p.M * p.N * p.K * p.trips;
  for (const p of products) if (!best || flops(p) > flops(best)) best = p;
  return best && { M: best.M, N: best.N, K: best.K };
}

function collect(stmts: Stmt[], trips: number, ranges: SymbolRanges, products: Product[]): void {
  for (const s of stmts) {
    if (s.k === 'loop') collect(s.body, trips * extentRange(s.n, ranges).max, ranges, products);
    else if (s.k === 'if') {
      collect(s.then, trips, ranges, products);
      collect(s.else ?? [], trips, ranges, products);
    } else if (s.k === 'gemm' && !s.int8) {
      const last = products[products.length - 1];
      const accumulates =
        s.bias?.buf.id === s.c.buf.id && last?.out === s.c.buf.id && last.M === s.M && last.N === s.N;
      if (accumulates) last.K += (s.K * trips) / last.trips;
      else products.push({ M: s.M, N: s.N, K: s.K, trips, out: s.c.buf.id });
    }
  }
}
