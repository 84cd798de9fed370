/**
 * Binds a manifest to its wasm modules: the compiler writes the sha256 of the manifest (every field but
 * `files`, which holds the modules' own hashes) into a custom section of each module, and the runtime
 * compares. So a manifest edited after compiling — a dtype, a shape, an offset, a dispatch — is refused
 * even where each field alone still looks plausible, while manifest.json's `files` covers the modules.
 */
import { sha256Hex } from './hash.js';
import type { Manifest } from './manifest.js';

export const MANIFEST_DIGEST_SECTION = 'kiln.manifest.sha256';

export function manifestDigest(manifest: Manifest): Promise<string> {
  const { files: _, ...described } = manifest;
  return sha256Hex(canonicalJson(described));
}

/** a manifest is a few levels deep; an object passed in memory could even be circular */
const MAX_DEPTH = 32;

/** JSON with object keys sorted, so reformatting manifest.json does not change the digest. */
function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH)
    throw new Error(`bundle manifest is malformed: nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
