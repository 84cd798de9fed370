/** wrangler as the cloudflare target runs it: its environment, and what it prints that Kiln reads. */

/**
 * wrangler's banner checks the npm registry for updates and it sends usage metrics: a dry run does
 * neither, so it works offline; a real deploy keeps the same defaults unless the caller's env sets them.
 */
export function wranglerEnv(env: NodeJS.ProcessEnv, dryRun: boolean): NodeJS.ProcessEnv {
  const offline = { WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' };
  return dryRun ? { ...env, ...offline } : { ...offline, ...env };
}

/** The Worker's workers.dev URL in `wrangler deploy`'s output, e.g. https://kiln-mlp.acme.workers.dev */
export function workersDevUrl(output: string): string | undefined {
  return output.match(/https:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*\.workers\.dev\b/)?.[0];
}

/** `wrangler r2 bucket create` on a bucket that exists: wrangler says so (Cloudflare error 10004). */
export function isBucketExistsError(err: unknown): boolean {
  return err instanceof Error && /already exists/i.test(err.message);
}
