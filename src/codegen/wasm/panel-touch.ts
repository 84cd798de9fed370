/**
 * Touching the next B panel while the current one runs: a B packed at compile time (a model's weights,
 * read once per run and mostly evicted between runs) otherwise arrives from DRAM only when the first
 * row block of A reaches each panel, and that row block waits on it: bert-enc's 128×384×384 with the B
 * evicted before each run ran 10–12 % below the same gemm with B cached (relaxed, Intel Xeon). Wasm has
 * no prefetch, so each row block of a panel loads (and drops) a few cache lines of the next panel, as many
 * as spread that panel over the panel's row blocks; the loads ride along the multiply-adds, and the
 * hardware's stream prefetcher, seeing them ascend, runs ahead of them. The last whole panel touches the
 * first (already read, and always within B) instead of reading past B. That recovered about a third of
 * the gap (2–4 % on BERT-shaped gemms with B evicted, nothing lost with B cached; bert-enc 0.955× the time,
 * SIMD128 0.98×); touching two panels ahead, twice as fast, or every second line measured the same.
 */

/** Bytes per cache line. */
const LINE = 64;

/** The locals a panel's touches keep: the next line to touch and the last value it may take. */
export interface TouchLocals {
  next: string;
  last: string;
}

/**
 * Lines each row block touches when `blocks` row blocks run over each panel of `panelBytes` (0: none,
 * where a panel has a single row block to spread them over or is under one line).
 */
export function touchLinesPerBlock(panelBytes: number, blocks: number): number {
  if (blocks < 2) return 0;
  return Math.min(Math.floor(panelBytes / LINE), Math.ceil(panelBytes / LINE / blocks));
}

/**
 * Sets the touch locals for the panel at `panel` (a byte address local) among `panels` whole panels of
 * `panelBytes` from `base`: the next panel, or for the last one the first.
 */
export function startTouches(
  { next, last }: TouchLocals,
  lines: number,
  base: string,
  panel: string,
  panels: number,
  panelBytes: number,
): string {
  const following = `(i32.add (local.get ${panel}) (i32.const ${panelBytes}))`;
  const isLast = `(i32.ge_u (local.get ${panel}) (i32.add (local.get ${base}) (i32.const ${(panels - 1) * panelBytes})))`;
  return [
    `(local.set ${next} (select (local.get ${base}) ${following} ${isLast}))`,
    `(local.set ${last} (i32.add (local.get ${next}) (i32.const ${panelBytes - lines * LINE})))`,
  ].join('\n');
}

/** One row block's touches: `lines` lines from `next` on, then `next` past them unless that leaves the panel. */
export function touchLines({ next, last }: TouchLocals, lines: number): string {
  const after = `(i32.add (local.get ${next}) (i32.const ${lines * LINE}))`;
  return [
    ...Array.from({ length: lines }, (_, j) => `(drop (i32.load offset=${j * LINE} (local.get ${next})))`),
    `(local.set ${next} (select ${after} (local.get ${next}) (i32.le_u ${after} (local.get ${last}))))`,
  ].join('\n');
}
