/**
 * GFLOP/s of the gemm statement alone on conv-shaped problems (M = out channels, N = output pixels,
 * K = Cg·kprod), each module timed in a fresh process: best of 5-run batches over ~1 s.
 *
 *   npx tsx scripts/perf/gemm-shapes.ts [M,N,K ...]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileProgram } from '../../src/codegen/wasm/index.js';
import { programOfCase } from '../../tests/codegen/cases/case.js';
import { gemmCase } from '../../tests/codegen/cases/gemm.js';

const shapes = process.argv.slice(2).length
  ? process.argv.slice(2).map((s) => s.split(',').map(Number))
  : [
      [256, 256, 256],
      [512, 49, 4608],
      [512, 48, 4608],
      [2048, 49, 512],
      [256, 196, 2304],
      [128, 784, 1152],
      [128, 784, 512],
      [64, 3136, 576],
    ];
const dir = mkdtempSync(join(tmpdir(), 'kiln-gemm-shapes-'));
for (const [M, N, K] of shapes) {
  const { bufs, program } = programOfCase(gemmCase('gemm', { M, N, K }));
  const file = join(dir, `g${M}x${N}x${K}.wasm`);
  writeFileSync(file, compileProgram(program));
  const script = `
    const inst = new WebAssembly.Instance(new WebAssembly.Module(require('fs').readFileSync(${JSON.stringify(file)})), {});
    const mem = new Float32Array(inst.exports.memory.buffer);
    for (const [off, n] of [[${bufs[0].offset}, ${M * K}], [${bufs[1].offset}, ${K * N}]])
      for (let i = 0; i < n; i++) mem[off / 4 + i] = Math.sin(i * 12.9898) * 2;
    let best = Infinity;
    const deadline = performance.now() + 1000;
    while (performance.now() < deadline) {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) inst.exports.run();
      best = Math.min(best, (performance.now() - t0) / 5000);
    }
    console.log(((2 * ${M * N * K}) / best / 1e9).toFixed(2));`;
  const gflops = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
  console.log(`M ${M} N ${N} K ${K}: ${gflops} GFLOP/s`);
}
rmSync(dir, { recursive: true });
