/**
 * Kernels with run-time extents (shape symbols read from the dims block, issue #11) against the same
 * kernels with the sizes baked in: an elementwise map, a row sum and a transpose over rows × cols, compiled
 * optimized for wasm, run at the full size in this one process, warmed by time and timed in alternating
 * blocks (DESIGN.md §5); medians.
 *
 *   npx tsx scripts/perf/run-time-extents.ts [--rows 512] [--cols 768] [--warm-s 2] [--blocks 20]
 */
import { parseArgs } from 'node:util';
import { compileProgram } from '../../src/codegen/wasm/index.js';
import { add, dim, f32, i32, load, local, loop, max, mul, set, store, v } from '../../src/kernels/build.js';
import type { Expr, PlacedBuffer, Program, Stmt } from '../../src/kernels/ir.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '512' },
    cols: { type: 'string', default: '768' },
    'warm-s': { type: 'string', default: '2' },
    blocks: { type: 'string', default: '20' },
  },
});
const [R, C] = [Number(values.rows), Number(values.cols)];
const BLOCK_RUNS = 5;

/** rows and cols as the kernel sees them: numbers, or the shape symbols' run-time values */
interface Sizes {
  rows: Expr;
  cols: Expr;
  all: Expr;
}

const KERNELS: Record<string, (s: Sizes, x: PlacedBuffer, y: PlacedBuffer) => Stmt[]> = {
  elementwise: (s, X, Y) => [
    loop('i', s.all, [store(Y, v('i'), max(add(mul(load(X, v('i')), f32(2)), f32(1)), f32(0)))]),
  ],
  'row sum': (s, X, Y) => [
    loop('r', s.rows, [
      local('sum', 'f32', f32(0)),
      loop('c', s.cols, [set('sum', add(v('sum', 'f32'), load(X, add(mul(v('r'), s.cols), v('c')))))]),
      store(Y, v('r'), v('sum', 'f32')),
    ]),
  ],
  transpose: (s, X, Y) => [
    loop('i', s.rows, [
      loop('j', s.cols, [
        store(Y, add(mul(v('j'), s.rows), v('i')), load(X, add(mul(v('i'), s.cols), v('j')))),
      ]),
    ]),
  ],
};

function instantiate(symbolic: boolean, kernel: (typeof KERNELS)[string]): () => void {
  const bytes = R * C * 4;
  const [X, Y]: PlacedBuffer[] = [0, 1].map((id) => ({
    id,
    dtype: 'float32',
    length: R * C,
    offset: 64 + id * (bytes + 64),
  }));
  const dimsAt = 64 + 2 * (bytes + 64);
  const sizes: Sizes = symbolic
    ? { rows: dim('rows'), cols: dim('cols'), all: mul(dim('rows'), dim('cols')) }
    : { rows: i32(R), cols: i32(C), all: i32(R * C) };
  // a static extent is a number in the Kernel IR, as lowerings write it
  const staticExtents = (stmts: Stmt[]): Stmt[] =>
    stmts.map((s) =>
      s.k === 'loop'
        ? {
            ...s,
            n: typeof s.n !== 'number' && s.n.k === 'const' ? Number(s.n.v) : s.n,
            body: staticExtents(s.body),
          }
        : s,
    );
  const program: Program = {
    buffers: [X, Y],
    memoryBytes: dimsAt + 64,
    init: [],
    run: [{ name: 'kernel', body: staticExtents(kernel(sizes, X, Y)) }],
    dims: {
      offset: dimsAt,
      symbols: [
        { name: 'rows', min: 1, max: R },
        { name: 'cols', min: 1, max: C },
      ],
    },
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(compileProgram(program)), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  new Int32Array(memory.buffer, dimsAt, 2).set([R, C]);
  new Float32Array(memory.buffer, X.offset, R * C).forEach((_, i, a) => (a[i] = Math.sin(i)));
  return instance.exports.run as () => void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (const [name, kernel] of Object.entries(KERNELS)) {
  const runs = [false, true].map((symbolic) => ({ run: instantiate(symbolic, kernel), ms: [] as number[] }));
  const start = performance.now();
  while (performance.now() - start < Number(values['warm-s']) * 1000) for (const r of runs) r.run();
  for (let block = 0; block < Number(values.blocks); block++)
    for (const r of runs) {
      const t = performance.now();
      for (let k = 0; k < BLOCK_RUNS; k++) r.run();
      r.ms.push((performance.now() - t) / BLOCK_RUNS);
    }
  const [fixed, runTime] = runs.map((r) => median(r.ms));
  console.log(
    `${name} ${R}×${C}: static ${fixed.toFixed(3)} ms, run-time extents ${runTime.toFixed(3)} ms (×${(runTime / fixed).toFixed(2)})`,
  );
}
