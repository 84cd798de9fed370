/**
 * The wrangler configuration `kiln deploy --target cloudflare` writes: the Worker's name, its module
 * rules (model.wasm as CompiledWasm, weights as Data), the serving options it reads from its vars and,
 * when weights live in R2, the bucket binding.
 */
import type { ServeEnv } from '../serve/env.js';
import { WEIGHTS_BINDING } from './worker-build.js';
import { DeployError } from './types.js';

/** Newest date the pinned workerd (miniflare 4.20260426) supports; fixed so deploys do not drift. */
export const COMPATIBILITY_DATE = '2026-04-01';

/** How wrangler (and miniflare) type the Worker's extra modules, matched under the entry's folder. */
export const MODULE_RULES = [
  { type: 'CompiledWasm', globs: ['**/*.wasm'] },
  { type: 'Data', globs: ['**/*.weights.bin'] },
] as const;

// Cloudflare's rule for Worker names; R2 bucket names are 3–63 of the same characters
const WORKER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `--name`, checked, or `kiln-<model names>` made safe (lowercase, dashes, at most 63 characters). */
export function workerName(requested: string | undefined, models: string[]): string {
  if (requested !== undefined) {
    if (!WORKER_NAME.test(requested))
      throw new DeployError(
        `--name "${requested}" is not a valid Worker name: use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash`,
      );
    return requested;
  }
  const slug = `kiln-${models.join('-')}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
  return slug;
}

/** The R2 bucket for a Worker's weights: `<worker>-weights`, cut to R2's 63 characters. */
export function weightsBucketName(worker: string): string {
  return `${worker.slice(0, 63 - '-weights'.length).replace(/-+$/, '')}-weights`;
}

export interface WranglerConfig {
  name: string;
  /** the entry, relative to the wrangler.toml */
  main: string;
  /** the R2 bucket bound as WEIGHTS_BINDING, when weights are read from R2 */
  weightsBucket?: string;
  /** plain-text vars the Worker reads its serving options from (workers/worker.ts) */
  vars?: ServeEnv;
}

export function wranglerToml({ name, main, weightsBucket, vars = {} }: WranglerConfig): string {
  const lines = [
    '# Written by `kiln deploy --target cloudflare`: the Worker is already built, so wrangler uploads it as is.',
    `name = ${JSON.stringify(name)}`,
    `main = ${JSON.stringify(main)}`,
    `compatibility_date = ${JSON.stringify(COMPATIBILITY_DATE)}`,
    'no_bundle = true',
    'workers_dev = true',
  ];
  const entries = Object.entries(vars).filter(([, value]) => value !== undefined);
  if (entries.length > 0)
    lines.push('', '[vars]', ...entries.map(([key, value]) => `${key} = ${JSON.stringify(value)}`));
  for (const rule of MODULE_RULES)
    lines.push(
      '',
      '[[rules]]',
      `type = "${rule.type}"`,
      `globs = ${JSON.stringify(rule.globs)}`,
      'fallthrough = false',
    );
  if (weightsBucket !== undefined)
    lines.push(
      '',
      '[[r2_buckets]]',
      `binding = "${WEIGHTS_BINDING}"`,
      `bucket_name = ${JSON.stringify(weightsBucket)}`,
    );
  return `${lines.join('\n')}\n`;
}
