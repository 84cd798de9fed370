/** Optional bearer-token auth: `Authorization: Bearer <key>`. */
import { HttpError } from './http-error.js';

/** Compares in time independent of where the strings differ, so the key cannot be guessed byte by byte. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

export function checkBearer(authorization: string | undefined, apiKey: string): void {
  if (!authorization) throw new HttpError(401, 'missing Authorization header (expected "Bearer <API key>")');
  const match = /^Bearer\s+(.+)$/i.exec(authorization);
  if (!match) throw new HttpError(401, 'the Authorization header must be "Bearer <API key>"');
  if (!sameSecret(match[1].trim(), apiKey)) throw new HttpError(401, 'wrong API key');
}
