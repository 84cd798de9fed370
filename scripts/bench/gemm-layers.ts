/**
 * The GEMM-bound layers of a Kiln bundle as `kiln bench --profile` splits them (src/cli/profile/gemm-bound.ts):
 * one profiled pass of one wasm variant, in a child process (binaryen and a second instance stay out of the
 * timing process), timed by CPU time since the bench machine may be busy.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { GemmBoundSummary } from '../../src/cli/profile/gemm-bound.js';
import type { ProfileReport } from '../../src/cli/profile/report.js';
import type { WasmVariant } from '../../src/runtime/types.js';

export interface GemmLayers extends GemmBoundSummary {
  variant: WasmVariant;
  /** the profiled runs' plain run, ms (CPU time) */
  run_ms: number;
}

export function profileGemmLayers(
  root: string,
  bundle: string,
  variant: WasmVariant,
  options: { nodeFlags: string[]; runs: number; warmupMs: number },
): GemmLayers {
  const out = execFileSync(
    process.execPath,
    [
      ...options.nodeFlags,
      join(root, 'bin/kiln.js'),
      'bench',
      bundle,
      '--profile',
      '--json',
      '--clock',
      'cpu',
      '--variant',
      variant,
      '--runs',
      String(options.runs),
      '--warmup',
      '0',
      '--warmup-ms',
      String(options.warmupMs),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  );
  const { profile } = JSON.parse(out.toString()) as { profile: ProfileReport };
  return { variant: profile.variant, run_ms: profile.run_ms, ...profile.gemm_bound };
}
