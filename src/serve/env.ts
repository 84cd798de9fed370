/** The serving options a deployment sets through its environment (Worker bindings, Lambda variables). */
import type { AppOptions } from './app.js';

export interface ServeEnv {
  /** bearer token every endpoint but /v2/health/* requires; unset or empty for none */
  KILN_API_KEY?: string;
  /** largest request body in whole MiB, like `kiln serve --max-body-mb`; default 64 */
  KILN_MAX_BODY_MB?: string;
}

export function optionsFromEnv(env: ServeEnv): Pick<AppOptions, 'apiKey' | 'maxBodyBytes'> {
  const options: Pick<AppOptions, 'apiKey' | 'maxBodyBytes'> = {};
  if (env.KILN_API_KEY) options.apiKey = env.KILN_API_KEY;
  const mb = env.KILN_MAX_BODY_MB;
  if (mb !== undefined && mb !== '') {
    if (!/^\d+$/.test(mb) || Number(mb) < 1)
      throw new Error(`KILN_MAX_BODY_MB must be a whole number of MiB, at least 1, got "${mb}"`);
    options.maxBodyBytes = Number(mb) * 1024 * 1024;
  }
  return options;
}
