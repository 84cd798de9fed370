/**
 * Liveness-based arena planning: values whose lifetimes do not overlap share bytes. Greedy by size
 * (largest first), each placed at the lowest offset that does not collide with an already placed
 * value alive at the same time — the classic offset-assignment heuristic used by TFLite and ORT.
 */
export interface Lifetime {
  id: number;
  bytes: number;
  /** first and last schedule step (inclusive) at which the value must hold its data */
  start: number;
  end: number;
}

export const ALIGNMENT = 64;
export const alignUp = (n: number, a = ALIGNMENT) => Math.ceil(n / a) * a;

export function planArena(values: readonly Lifetime[]): { offsets: Map<number, number>; size: number } {
  const order = [...values].sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  const placed: { offset: number; bytes: number; start: number; end: number }[] = [];
  const offsets = new Map<number, number>();
  let size = 0;
  for (const v of order) {
    const bytes = alignUp(Math.max(v.bytes, 1));
    const clashes = placed
      .filter((p) => p.start <= v.end && v.start <= p.end)
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of clashes) {
      if (offset + bytes <= p.offset) break;
      offset = Math.max(offset, p.offset + p.bytes);
    }
    placed.push({ offset, bytes, start: v.start, end: v.end });
    offsets.set(v.id, offset);
    size = Math.max(size, offset + bytes);
  }
  return { offsets, size };
}
