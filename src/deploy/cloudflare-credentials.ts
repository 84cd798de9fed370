/**
 * Whether wrangler can deploy without asking anyone: an API token (or global key) in the environment,
 * or the OAuth login `wrangler login` saved. Checked offline, before anything is built or uploaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from './types.js';

/** What wrangler will authenticate with, in words; undefined when it has nothing. */
export function cloudflareCredentials(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CLOUDFLARE_API_TOKEN) return 'CLOUDFLARE_API_TOKEN';
  if (env.CLOUDFLARE_API_KEY && env.CLOUDFLARE_EMAIL) return 'CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL';
  const login = wranglerLoginFiles(env).find(
    (file) => existsSync(file) && /^\s*(oauth_token|refresh_token)\s*=/m.test(readFileSync(file, 'utf8')),
  );
  return login && `the wrangler login saved in ${login}`;
}

export function requireCloudflareCredentials(env: NodeJS.ProcessEnv): string {
  const found = cloudflareCredentials(env);
  if (found === undefined)
    throw new DeployError(
      'no Cloudflare credentials: create an API token with the "Edit Cloudflare Workers" template (dashboard → My Profile → API Tokens) and export CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID), or run `npx wrangler login`; --dry-run needs none',
    );
  return found;
}

/** Where wrangler keeps its OAuth login: ~/.wrangler (older), else the XDG config folder (macOS: Preferences). */
function wranglerLoginFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? env.USERPROFILE;
  if (!home) return [];
  const file = (dir: string) => join(dir, '.wrangler', 'config', 'default.toml');
  return [
    file(home),
    file(env.XDG_CONFIG_HOME || join(home, '.config')),
    file(join(home, 'Library', 'Preferences')),
  ];
}
