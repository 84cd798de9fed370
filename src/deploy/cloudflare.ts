/**
 * `kiln deploy --target cloudflare`: builds the Worker into outDir exactly as wrangler uploads it
 * (outDir/worker, its view in outDir/upload from `wrangler deploy --dry-run`), checks the Workers
 * limits, estimates CPU time, and — unless a dry run — puts weights too large for the script into R2
 * and runs `wrangler deploy`. Layout of outDir: wrangler.toml, worker/, upload/, r2/<key>.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { batchingPlanLine, checkBatching } from './batching.js';
import { readServedBundles } from './bundles.js';
import { COMPATIBILITY_DATE, weightsBucketName, workerName, wranglerToml } from './cloudflare-config.js';
import { estimateCpu } from './cloudflare-cpu.js';
import { requireCloudflareCredentials } from './cloudflare-credentials.js';
import {
  checkMemory,
  mib,
  modelFootprint,
  placeWeights,
  relaxedFromEnv,
  sum,
  weightsModeFromEnv,
  WORKERS_LIMITS,
  type WorkersLimits,
} from './cloudflare-limits.js';
import { isBucketExistsError, workersDevUrl, wranglerEnv } from './cloudflare-wrangler.js';
import { findTool, runTool, WRANGLER } from './tools.js';
import { DeployError, type DeployRequest, type DeployResult } from './types.js';
import { buildWorker, WEIGHTS_BINDING, type WorkerBuild } from './worker-build.js';

export async function deployCloudflare(request: DeployRequest): Promise<DeployResult> {
  return deployToWorkers(request, WORKERS_LIMITS);
}

/** The target with its limits as a parameter, so tests can reach the R2 and too-large paths with small models. */
export async function deployToWorkers(request: DeployRequest, limits: WorkersLimits): Promise<DeployResult> {
  const { outDir, dryRun, env, batching } = request;
  // everything that can refuse without work comes first: the tool, the credentials, the settings
  const wrangler = findTool(WRANGLER, env);
  const credentials = dryRun ? undefined : requireCloudflareCredentials(env);
  const mode = weightsModeFromEnv(env);
  const relaxedInWorker = relaxedFromEnv(env);

  request.step('checking the bundles');
  const bundles = await readServedBundles(request.bundleDirs);
  if (batching) checkBatching(bundles, batching);
  const name = workerName(
    request.name,
    bundles.map((b) => b.name),
  );
  const models = bundles.map((bundle) => modelFootprint(bundle, relaxedInWorker));
  const memory = checkMemory(models, limits);

  request.step(`building the Worker "${name}"`);
  const workerDir = join(outDir, 'worker');
  const uploadDir = join(outDir, 'upload');
  const r2Dir = join(outDir, 'r2');
  // only Kiln's own folders are cleared: stale weights left there would be uploaded as modules
  await Promise.all([workerDir, uploadDir, r2Dir].map((dir) => rm(dir, { recursive: true, force: true })));
  let build = await buildWorker(workerDir, bundles, {
    weights: mode === 'r2' ? 'r2' : 'script',
    relaxed: relaxedInWorker,
  });
  const codeBytes =
    (await readFile(join(workerDir, 'worker.js'))).byteLength + sum(models.map((m) => m.wasmBytes));
  const placement = placeWeights(mode, codeBytes, models, limits);
  if (placement === 'r2' && build.r2Objects.length === 0) {
    request.log('the weights do not fit the script: rebuilding with them in R2');
    await rm(workerDir, { recursive: true, force: true });
    build = await buildWorker(workerDir, bundles, { weights: 'r2', relaxed: relaxedInWorker });
  }
  const size = await scriptSize(workerDir, build);
  if (size.bytes > limits.scriptBytes)
    throw new DeployError(
      `the built Worker is ${mib(size.bytes)}, over the Workers script limit of ${mib(limits.scriptBytes)}: deploy fewer bundles per Worker`,
    );
  if (size.gzipBytes > limits.formerFreeGzipBytes)
    request.warn(
      `the Worker is ${mib(size.gzipBytes)} after gzip, over the ${mib(limits.formerFreeGzipBytes)} free-plan limit Cloudflare applied before 2026 (now ${mib(limits.scriptBytes)} uncompressed); if the upload is refused for its size, deploy again with KILN_CLOUDFLARE_WEIGHTS=r2`,
    );

  request.step('estimating CPU time per request');
  const cpu = [];
  for (const dir of request.bundleDirs) {
    const estimate = await estimateCpu(dir);
    cpu.push(estimate);
    if (estimate.medianMs > limits.freeCpuMs)
      request.warn(
        `model "${estimate.model}" runs in ${estimate.medianMs.toFixed(1)} ms here (median on zeros), over the ${limits.freeCpuMs} ms of CPU per request of the Workers free plan: requests may fail there; the paid plan allows 30 s`,
      );
  }

  const bucket = build.r2Objects.length > 0 ? weightsBucketName(name) : undefined;
  const configPath = join(outDir, 'wrangler.toml');
  // the Worker reads its batching from these vars (src/serve/env.ts batchingFromEnv)
  const vars = batching && {
    KILN_MAX_BATCH: String(batching.maxBatch),
    KILN_BATCH_DELAY_MS: String(batching.delayMs),
  };
  await writeFile(configPath, wranglerToml({ name, main: 'worker/worker.js', weightsBucket: bucket, vars }));
  const r2Files = await Promise.all(
    build.r2Objects.map(async ({ key, bytes }) => {
      const path = join(r2Dir, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      return { key, path };
    }),
  );

  const run = (args: string[]) =>
    runTool(wrangler, args, {
      cwd: outDir,
      env: wranglerEnv(env, dryRun),
      onLine: (line) => request.log(line),
    });
  request.step('wrangler deploy --dry-run');
  await run(['deploy', '--dry-run', '--outdir', uploadDir, '--config', configPath]);

  const plan = [
    `Worker "${name}" (compatibility_date ${COMPATIBILITY_DATE}) serving ${models.map((m) => `"${m.name}"`).join(', ')}`,
    `script: ${mib(size.bytes)} (${mib(size.gzipBytes)} gzip) of the ${mib(limits.scriptBytes)} Workers allow`,
    `wasm: ${relaxedInWorker && bundles.some((b) => b.manifest.wasm.relaxed) ? 'SIMD128 and relaxed-SIMD modules (the runtime picks relaxed where workerd compiles it; KILN_CLOUDFLARE_RELAXED=0 leaves it out)' : 'SIMD128 modules'}`,
    `memory: about ${mib(memory.bytes)} of ${mib(limits.memoryBytes)} (${memory.detail})`,
    bucket === undefined
      ? 'weights: in the script, as Data modules'
      : `weights: in R2 bucket "${bucket}" (binding ${WEIGHTS_BINDING}), read and verified on the first request: ${r2Files.map((f) => f.key).join(', ')}`,
    ...(batching ? [batchingPlanLine(batching)] : []),
    ...cpu.map(
      (c) =>
        `CPU: "${c.model}" ${c.medianMs.toFixed(2)} ms per run, ${c.loadMs.toFixed(0)} ms to load (measured here; free plan: ${limits.freeCpuMs} ms per request)`,
    ),
  ];
  const artifacts = [
    configPath,
    ...(await readdir(uploadDir)).filter((f) => f !== 'README.md').map((f) => join(uploadDir, f)),
    ...r2Files.map((f) => f.path),
  ];
  if (dryRun) {
    plan.push(`upload: wrangler deploy --config ${configPath}`);
    return { plan, artifacts };
  }

  request.step(`deploying with ${credentials}`);
  if (bucket !== undefined) {
    request.step(`R2 bucket "${bucket}": uploading ${r2Files.length} weights file(s)`);
    try {
      await run(['r2', 'bucket', 'create', bucket]);
    } catch (err) {
      if (!isBucketExistsError(err)) throw err;
      request.log(`R2 bucket "${bucket}" exists`);
    }
    for (const { key, path } of r2Files)
      await run(['r2', 'object', 'put', `${bucket}/${key}`, '--file', path, '--remote']);
  }
  request.step('wrangler deploy');
  const output = await run(['deploy', '--config', configPath]);
  const endpoint = workersDevUrl(output);
  if (endpoint === undefined)
    request.warn('wrangler did not print a workers.dev URL (is workers.dev disabled for the account?)');
  plan.push(
    endpoint === undefined ? `deployed Worker "${name}"` : `deployed Worker "${name}" at ${endpoint}`,
  );
  return { plan, artifacts, ...(endpoint === undefined ? {} : { endpoint }) };
}

/** The upload's size as wrangler measures it: every module, and their concatenation gzipped. */
async function scriptSize(
  workerDir: string,
  build: WorkerBuild,
): Promise<{ bytes: number; gzipBytes: number }> {
  const contents = await Promise.all(build.modules.map(({ path }) => readFile(join(workerDir, path))));
  const all = Buffer.concat(contents);
  return { bytes: all.byteLength, gzipBytes: gzipSync(all).byteLength };
}
