/**
 * Node 20 compiles relaxed SIMD only with a flag: a timing script that wants Kiln's relaxed module runs
 * itself again with the flag switched on (where this Node knows it), so every engine sees the same features.
 */
import { spawnSync } from 'node:child_process';
import { hasRelaxedSimd } from '../../src/runtime/relaxed-simd.js';

export const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/** Run `script` again under RELAXED_FLAG and exit with its status, unless relaxed SIMD is on or unknown here. */
export function rerunWithRelaxedSimd(script: string): void {
  if (hasRelaxedSimd() || process.execArgv.includes(RELAXED_FLAG)) return;
  if (spawnSync(process.execPath, [RELAXED_FLAG, '-e', '0']).status !== 0) return;
  const again = spawnSync(
    process.execPath,
    [RELAXED_FLAG, ...process.execArgv, script, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(again.status ?? 1);
}
