/** `kiln bench --profile`: the kernel table the compiler writes, the instrumented module, the report and its errors. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compiler/compile.js';
import { readBundleDir, writeBundle } from '../../src/bundle/node.js';
import { sealBundle } from '../../src/bundle/seal.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { loadModel } from '../../src/runtime/index.js';
import { randomFeed } from '../../src/cli/tensors.js';
import {
  attributeCallSites,
  instrumentRun,
  PROFILE_IMPORT_MODULE,
} from '../../src/cli/profile/instrument.js';
import { formatProfile, type ProfileReport } from '../../src/cli/profile/report.js';
import { gemmBoundSummary } from '../../src/cli/profile/gemm-bound.js';
import { runKiln } from '../helpers/cli-main.js';
import { writeNpy } from '../../src/tensor-io/npy.js';
import binaryen from 'binaryen';

let dir: string;
const bundles: Record<string, string> = {};
const fast = ['--runs', '2', '--warmup', '0', '--warmup-ms', '0'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-profile-'));
  for (const name of ['cnn', 'attention']) {
    bundles[name] = join(dir, name);
    const bytes = await readFile(join(import.meta.dirname, `../../models/${name}.onnx`));
    await writeBundle(bundles[name], await compileModel(new Uint8Array(bytes)));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function profileJson(bundle: string): Promise<{ profile: ProfileReport }> {
  const r = await runKiln(['bench', bundle, '--profile', '--json', ...fast]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('kiln bench --profile', () => {
  it('times every run kernel of cnn.onnx once, with its op, shape and flops', async () => {
    const { profile } = await profileJson(bundles.cnn);
    const byKernel = [...profile.kernels].sort((a, b) => a.function.localeCompare(b.function));
    expect(byKernel.map((k) => [k.kernel, k.op, k.shapes, k.calls_per_run])).toEqual([
      // MaxPool_2 pools Conv_0's rows as they are made (src/ops/nn/conv-pool.ts)
      ['Conv_0', 'Conv+Relu+MaxPool', [[1, 8, 16, 16]], 1],
      // BatchNormalization_4 folded into Conv_3's weights, and Relu_5 fused into its gemm
      ['Conv_3', 'Conv+Relu', [[1, 16, 8, 8]], 1],
      ['GlobalAveragePool_6', 'GlobalAveragePool', [[1, 16, 1, 1]], 1],
      ['Gemm_8', 'Gemm', [[1, 10]], 1],
      ['Softmax_9', 'Softmax', [[1, 10]], 1],
    ]);
    const flops = Object.fromEntries(profile.kernels.map((k) => [k.kernel, k.flops]));
    // 3×3 conv, 3 → 8 channels, 32×32 output (padded): 2 flops per multiply-add; then the 2×2 window of
    // the pool: the first tap, then 3 f32 max per output
    expect(flops.Conv_0).toBe(2 * 8 * 32 * 32 * 3 * 3 * 3 + 8 * 16 * 16 * 3);
    // 3×3 stride-2 conv, 8 → 16 channels, 8×8 output
    expect(flops.Conv_3).toBe(2 * 16 * 8 * 8 * 8 * 3 * 3);
    // Gemm [1,16]·[16,10]
    expect(flops.Gemm_8).toBe(2 * 1 * 16 * 10);

    expect(profile.kernels.map((k) => k.rank)).toEqual(profile.kernels.map((_, i) => i + 1));
    const ms = profile.kernels.map((k) => k.ms_per_run);
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    const shares = profile.kernels.reduce((s, k) => s + k.share_pct, 0);
    expect(shares).toBeGreaterThan(99.9);
    expect(shares).toBeLessThan(100.1);
    expect(profile.peak_gflops).toBeGreaterThan(0);
    expect(profile).toMatchObject({ runs: 2, warmup_ms: 0, other_ms: 0 });
    expect(profile.ops.map((o) => o.op).sort()).toEqual([
      'Conv+Relu',
      'Conv+Relu+MaxPool',
      'Gemm',
      'GlobalAveragePool',
      'Softmax',
    ]);
    expect(profile.ops.reduce((s, o) => s + o.kernels, 0)).toBe(5);
    // GEMM-bound: Conv_3 (M 16, N 64, K 72); Conv_0's M is 8 and the Gemm's M is 1
    expect(byKernel.find((k) => k.kernel === 'Conv_3')!.gemm).toEqual({ M: 16, N: 64, K: 72 });
    expect(profile.gemm_bound.gemm_bound).toMatchObject({ kernels: 1, worst: { kernel: 'Conv_3' } });
    expect(profile.gemm_bound.other_matrix.kernels).toBe(2);
    expect(profile.variant).toBe('simd128');
  });

  it('attention.onnx: every kernel appears once, MatMuls count 2·M·N·K', async () => {
    const { profile } = await profileJson(bundles.attention);
    const manifest = JSON.parse(await readFile(join(bundles.attention, 'manifest.json'), 'utf8'));
    expect(profile.kernels.map((k) => k.function).sort()).toEqual(
      manifest.kernels.map((k: { function: string }) => k.function).sort(),
    );
    const q = profile.kernels.find((k) => k.kernel === 'MatMul_0')!;
    expect(q).toMatchObject({ op: 'MatMul', shapes: [[1, 8, 32]], flops: 2 * 8 * 32 * 32 });
    expect(profile.kernels.filter((k) => k.op === 'Transpose').every((k) => k.gflops === null)).toBe(true);
  });

  it('prints a table of the top kernels, without bars when stdout is no terminal', async () => {
    const r = await runKiln(['bench', bundles.cnn, '--profile', '--top', '3', ...fast]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) =>
      /^#\s+kernel\s+op\s+shape\s+wall ms\/run\s+share\s+GFLOP\/s\s+% peak$/.test(l),
    );
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/^1 /);
    expect(lines[header + 4]).toMatch(/^top 3 of 5 kernels: /);
    expect(lines[header + 5]).toMatch(/^by op: \S+ [\d.]+ %/);
    expect(lines[header + 6]).toMatch(
      /^GEMM-bound \(largest f32 gemm with K ≥ 24, M ≥ 16, N ≥ 16\): 1 kernels, [\d.]+ % of FLOPs at [\d.]+ GFLOP\/s = \d+ % of peak; worst Conv_3 \(Conv\+Relu, M×N×K 16×64×72\) \d+ %; other conv\/matmul: 2 kernels/,
    );
    expect(r.stdout).toMatch(
      /kernels [\d.]+ ms\/run in all; instrumented run [\d.]+ ms, plain run [\d.]+ ms/,
    );
    expect(r.stdout).not.toContain('█');
  });

  it('bars scale to the largest share', () => {
    const row = (rank: number, share: number) => ({
      rank,
      kernel: `k${rank}`,
      node: `k${rank}`,
      op: 'Conv',
      function: `kernel.${rank}.k${rank}`,
      shapes: [[1, 2]],
      calls_per_run: 1,
      ms_per_run: share / 10,
      share_pct: share,
      flops: 0,
      gflops: null,
      peak_pct: null,
    });
    const lines = formatProfile(syntheticReport([row(1, 75), row(2, 25)]), { top: 15, bars: true });
    expect(lines[1].endsWith(` ${'█'.repeat(24)}`)).toBe(true);
    expect(lines[2].endsWith(` ${'█'.repeat(8)}`)).toBe(true);
  });

  it('--clock cpu times by CPU time, and the JSON and the table say which clock', async () => {
    const cpu = await runKiln(['bench', bundles.cnn, '--profile', '--clock', 'cpu', '--json', ...fast]);
    expect(cpu.code, cpu.stderr).toBe(0);
    const { profile } = JSON.parse(cpu.stdout) as { profile: ProfileReport };
    expect(profile.clock).toBe('cpu');
    expect(profile.peak_of).toBe('f32x4.mul + f32x4.add');
    expect(profile.kernels).toHaveLength(5);
    expect(profile.run_cpu_ms).toBeGreaterThan(0);
    expect(profile.run_wall_ms).toBeGreaterThan(0);
    expect((await profileJson(bundles.cnn)).profile.clock).toBe('wall');

    const table = await runKiln(['bench', bundles.cnn, '--profile', '--clock', 'cpu', ...fast]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^#\s+kernel\s+op\s+shape\s+CPU ms\/run\s+share/m);
    expect(table.stdout).toContain("times by this process's CPU time (--clock cpu)");
    expect(table.stdout).toMatch(
      /% peak: of [\d.]+ GFLOP\/s, this core's f32 SIMD128 peak in a loop of f32x4\.mul \+ f32x4\.add/,
    );
  });

  it('says the machine is busy where the runs took over 1.5× their CPU time, suggesting --clock cpu', () => {
    const busyLine = (lines: string[]) => lines.find((l) => l.startsWith('busy machine'));
    const at = (wall: number, cpu: number, clock: 'wall' | 'cpu') =>
      busyLine(
        formatProfile(
          { ...syntheticReport([]), clock, run_wall_ms: wall, run_cpu_ms: cpu },
          { top: 15, bars: false },
        ),
      );
    expect(at(10, 8, 'wall')).toBeUndefined();
    expect(at(10, 4, 'wall')).toBe(
      "busy machine: the runs took 2.5× their CPU time in wall time, waiting for a core, so wall times count other processes' time slices: profile with --clock cpu",
    );
    expect(at(10, 4, 'cpu')).toBe(
      'busy machine: the runs took 2.5× their CPU time in wall time, waiting for a core; the CPU clock leaves that out',
    );
  });
});

/** A report of the given rows, timed by the wall clock on an idle machine. */
function syntheticReport(kernels: ProfileReport['kernels']): ProfileReport {
  return {
    runs: 1,
    variant: 'simd128',
    warmup_ms: 0,
    clock: 'wall',
    peak_gflops: 10,
    peak_of: 'f32x4.mul + f32x4.add',
    run_ms: 10,
    run_wall_ms: 10,
    run_cpu_ms: 10,
    instrumented_run_ms: 10,
    kernels_ms: 10,
    other_ms: 0,
    kernels,
    ops: [{ op: 'Conv', kernels: 2, ms_per_run: 10, share_pct: 100, gflops: null }],
    gemm_bound: gemmBoundSummary(kernels, 10, true),
  };
}

describe('kiln bench --profile refuses what it cannot profile, in one line', () => {
  it('the webgpu backend', async () => {
    const r = await runKiln(['bench', bundles.cnn, '--profile', '--backend', 'webgpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kiln: --profile times the kernels of the wasm backend; the webgpu backend has no per-kernel timing (leave out --backend webgpu)\n',
    );
  });

  it('a bundle from a compiler without kernel metadata', async () => {
    const files = await readBundleDir(bundles.cnn);
    const { kernels: _, ...manifest } = files.manifest;
    const old = join(dir, 'old');
    await writeBundle(old, await sealBundle({ ...files, manifest: { ...manifest, compiler: 'kiln 0.0.9' } }));
    const r = await runKiln(['bench', old, '--profile']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kiln: bundle "cnn" has no kernel table (compiled by kiln 0.0.9 without profile metadata): compile it again with this kiln to profile it\n',
    );
    // it still loads and benches without --profile
    expect((await runKiln(['bench', old, ...fast])).code).toBe(0);
  });

  it('--top without --profile is a usage error', async () => {
    const r = await runKiln(['bench', bundles.cnn, '--top', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('kiln: --top needs --profile');
  });

  it('an unknown --clock, or --clock without --profile, is a usage error', async () => {
    const unknown = await runKiln(['bench', bundles.cnn, '--profile', '--clock', 'tsc', ...fast]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.split('\n')[0]).toBe('kiln: --clock must be one of wall, cpu, got "tsc"');
    const alone = await runKiln(['bench', bundles.cnn, '--clock', 'cpu', ...fast]);
    expect(alone.code).toBe(2);
    expect(alone.stderr.split('\n')[0]).toBe('kiln: --clock needs --profile');
  });
});

describe('the instrumented module', () => {
  let files: BundleFiles;
  beforeAll(async () => {
    files = await readBundleDir(bundles.cnn);
  });

  it('computes the same outputs as model.wasm and reports each call site once per run', async () => {
    const instrumented = instrumentRun(files.wasm, 'run');
    expect(instrumented.callees).toEqual(files.manifest.kernels!.map((k) => k.function));
    const exits: number[] = [];
    let open = 0;
    const imports = {
      [PROFILE_IMPORT_MODULE]: {
        enter: () => void open++,
        exit: (site: number) => {
          open--;
          exits.push(site);
        },
      },
    };
    const plain = await loadModel(bundles.cnn);
    const profiled = await loadModel(
      { manifest: files.manifest, wasm: new WebAssembly.Module(instrumented.bytes), weights: files.weights },
      { backend: 'wasm', imports },
    );
    const feeds = { image: randomFeed(plain.inputs[0], 1) };
    const [want, got] = [await plain.run(feeds), await profiled.run(feeds)];
    for (const [name, tensor] of Object.entries(want))
      expect(Array.from(got[name].data as Float32Array)).toEqual(Array.from(tensor.data as Float32Array));
    expect(exits).toEqual(instrumented.callees.map((_, i) => i));
    expect(open).toBe(0);
    plain.dispose();
    profiled.dispose();
  });

  it('the plain runtime path still refuses a module with imports it was not given', async () => {
    const instrumented = instrumentRun(files.wasm, 'run');
    await expect(
      loadModel({
        manifest: files.manifest,
        wasm: new WebAssembly.Module(instrumented.bytes),
        weights: files.weights,
      }),
    ).rejects.toThrow(/imports kiln_profile\.enter, kiln_profile\.exit, but Kiln modules take no imports/);
  });
});

describe('instrumentRun on a run() that calls kernels in chunks, with arguments and results', () => {
  it('times every call site, and the module computes what it did', () => {
    const wat = `(module
      (memory (export "memory") 1 1)
      (func $kernel.0.a (param $chunk i32) (i32.store (i32.mul (local.get $chunk) (i32.const 4)) (i32.add (local.get $chunk) (i32.const 10))))
      (func $helper (result i32) (i32.load (i32.const 4)))
      (func $kernel.1.b (param $x i32) (i32.store (i32.const 8) (local.get $x)))
      (func $run (export "run")
        (call $kernel.0.a (i32.const 0))
        (call $kernel.0.a (i32.const 1))
        (call $kernel.1.b (call $helper))))`;
    const mod = binaryen.parseText(wat);
    binaryen.setDebugInfo(true);
    const bytes = mod.emitBinary();
    mod.dispose();
    const instrumented = instrumentRun(bytes, 'run');
    expect(instrumented.callees).toEqual(['kernel.0.a', 'kernel.0.a', 'helper', 'kernel.1.b']);
    const sites = attributeCallSites(
      instrumented.callees,
      [{ function: 'kernel.0.a' }, { function: 'kernel.1.b' }],
      instrumented.functions,
    );
    expect(sites).toEqual([0, 0, -1, 1]);
    const exits: number[] = [];
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(instrumented.bytes), {
      [PROFILE_IMPORT_MODULE]: { enter: () => {}, exit: (site: number) => void exits.push(site) },
    });
    (exports.run as () => void)();
    expect(exits).toEqual([0, 1, 2, 3]);
    const memory = new Int32Array((exports.memory as WebAssembly.Memory).buffer, 0, 3);
    expect(Array.from(memory)).toEqual([10, 11, 11]);
  });
});

describe('attributeCallSites', () => {
  const kernels = (...fns: string[]) => fns.map((f) => ({ function: f }));

  it('maps one call per kernel in order', () => {
    expect(attributeCallSites(['a', 'b', 'c'], kernels('a', 'b', 'c'), new Set(['a', 'b', 'c']))).toEqual([
      0, 1, 2,
    ]);
  });

  it('gives a call to a merged survivor to the kernel whose function was merged away', () => {
    // binaryen merged d (identical to b) into b: run calls a b c b
    const fns = new Set(['a', 'b', 'c']);
    expect(attributeCallSites(['a', 'b', 'c', 'b'], kernels('a', 'b', 'c', 'd'), fns)).toEqual([0, 1, 2, 3]);
  });

  it('adds repeated calls (chunks) to the kernel just matched, and leaves helpers out', () => {
    const fns = new Set(['a', 'b', 'helper']);
    expect(attributeCallSites(['a', 'a', 'a', 'helper', 'b'], kernels('a', 'b'), fns)).toEqual([
      0, 0, 0, -1, 1,
    ]);
  });
});

describe('kiln bench --profile on run-time dims', () => {
  it('gives GFLOP/s at the bounds, and none (saying why) below them, where the kernel table would be wrong', async () => {
    const bundle = join(dir, 'mlp-rows');
    const bytes = await readFile(join(import.meta.dirname, '../../models/mlp.onnx'));
    await writeBundle(
      bundle,
      await compileModel(new Uint8Array(bytes), { shapes: { x: [{ min: 1, max: 4 }, 64] } }),
    );
    const atBounds = await profileJson(bundle); // random feeds run at the upper bounds
    expect(atBounds.profile.counted_at_bounds).toBeUndefined();
    expect(atBounds.profile.kernels.some((k) => k.gflops !== null)).toBe(true);

    const x = join(dir, 'x2.npy');
    const data = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
    await writeFile(x, writeNpy({ dtype: 'float32', dims: [2, 64], data }));
    const r = await runKiln(['bench', bundle, '--profile', '--json', '--input', `x=${x}`, ...fast]);
    expect(r.code, r.stderr).toBe(0);
    const { profile } = JSON.parse(r.stdout) as { profile: ProfileReport };
    expect(profile.counted_at_bounds).toMatch(/1\.\.4 \(run at 2\)/);
    expect(profile.kernels.every((k) => k.gflops === null && k.peak_pct === null)).toBe(true);
    expect(profile.ops.every((o) => o.gflops === null)).toBe(true);
    expect(formatProfile(profile, { top: 3, bars: false }).at(-1)).toMatch(
      /^no GFLOP\/s: shapes and FLOPs are counted at the bounds of the run-time dims \(\S+ 1\.\.4 \(run at 2\)\)/,
    );
  });
});
