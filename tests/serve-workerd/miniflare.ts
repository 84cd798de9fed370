/**
 * Runs a built Worker folder (worker.js and its modules, as src/deploy/worker-build.ts or
 * `wrangler deploy --dry-run --outdir` leave it) inside workerd through miniflare, typing its files
 * by the module rules the generated wrangler.toml gives wrangler (other files, e.g. wrangler's
 * README.md, are not modules), with R2 buckets filled in memory.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { COMPATIBILITY_DATE, MODULE_RULES } from '../../src/deploy/cloudflare-config.js';

export interface RunningWorker {
  send(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  bindings?: Record<string, string>;
  /** R2 bucket bindings: binding name → object key → bytes */
  r2?: Record<string, Record<string, Uint8Array>>;
}

/** The Worker's request logs (the runtime's stdio) are swallowed. */
export async function runWorkerDir(dir: string, options: WorkerOptions = {}): Promise<RunningWorker> {
  const mf = new Miniflare({
    // listed, not traced from worker.js: wrangler's no_bundle uploads by the rules the same way, and
    // tracing would trip on the runtime's lazy import('node:fs/promises') that a Worker never runs
    modules: await modulesIn(dir),
    modulesRoot: dir,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: options.bindings ?? {},
    r2Buckets: Object.keys(options.r2 ?? {}),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.resume();
      stderr.resume();
    },
  });
  for (const [binding, objects] of Object.entries(options.r2 ?? {})) {
    const bucket = await mf.getR2Bucket(binding);
    // miniflare types the binding loosely (it is an R2Bucket) and takes a plain ArrayBuffer, not a Buffer
    for (const [key, bytes] of Object.entries(objects))
      await (bucket as unknown as { put(k: string, v: ArrayBuffer): Promise<unknown> }).put(
        key,
        Uint8Array.from(bytes).buffer,
      );
  }
  return {
    send: async (path, init) =>
      (await mf.dispatchFetch(`http://localhost${path}`, init as never)) as unknown as Response,
    stop: () => mf.dispose(),
  };
}

type ModuleType = 'ESModule' | (typeof MODULE_RULES)[number]['type'];

async function modulesIn(dir: string) {
  const modules: { type: ModuleType; path: string; contents: Uint8Array }[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    // the rules' globs are all "**/*<suffix>"
    const rule = MODULE_RULES.find((r) => r.globs.some((g) => name.endsWith(g.replace('**/*', ''))));
    const type = name === 'worker.js' ? 'ESModule' : rule?.type;
    if (type) modules.push({ type, path: join(dir, name), contents: await readFile(join(dir, name)) });
  }
  // the first module is the entry
  return modules.sort((a, b) => Number(b.type === 'ESModule') - Number(a.type === 'ESModule'));
}
