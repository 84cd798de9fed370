/** Turns what the caller passed to `loadModel` into bundle files in memory (not yet verified). */
import type { LoadedBundleFiles } from '../bundle/files.js';
import { readBundle, type ReadOptions } from '../bundle/read.js';
import { checkManifestShape } from '../bundle/verify.js';
import type { BundleSource, InMemoryBundle } from './types.js';

/** Strings with a scheme (`https://…`, `file://…`) are URLs; any other string is a directory path. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** `options.relaxed: false` leaves model.relaxed.wasm unread (a runtime that will not run it). */
export async function resolveSource(
  source: BundleSource,
  options: ReadOptions = {},
): Promise<LoadedBundleFiles> {
  if (typeof source === 'string')
    return URL_LIKE.test(source) ? fromUrl(new URL(source), options) : fromDirectory(source, options);
  if (source instanceof URL) return fromUrl(source, options);
  if (typeof source === 'object' && source !== null && 'manifest' in source) return fromMemory(source);
  throw new Error('loadModel: source must be a bundle directory path, a URL, or { manifest, wasm, weights }');
}

async function fromDirectory(dir: string, options: ReadOptions): Promise<LoadedBundleFiles> {
  // a separate module, loaded only here, so bundlers for Workers and browsers can leave node:fs out
  const { readBundleDirectory } = await import('./directory-source.js');
  return readBundleDirectory(dir, options);
}

async function fromUrl(url: URL, options: ReadOptions): Promise<LoadedBundleFiles> {
  if (url.protocol === 'file:') return fromDirectory(decodeURIComponent(url.pathname), options);
  const base = new URL(url.href.endsWith('/') ? url.href : `${url.href}/`);
  return readBundle(
    async (name) => {
      const response = await fetch(new URL(name, base));
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      return new Uint8Array(await response.arrayBuffer());
    },
    base.href,
    options,
  );
}

function fromMemory(source: InMemoryBundle): LoadedBundleFiles {
  let manifest: unknown = source.manifest;
  if (typeof manifest === 'string') {
    try {
      manifest = JSON.parse(manifest);
    } catch (err) {
      throw new Error(
        `loadModel: the manifest passed in is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`,
      );
    }
  }
  const { wasm, relaxedWasm, weights, wgsl, tokenizer } = source;
  if (!(wasm instanceof Uint8Array) && !(wasm instanceof WebAssembly.Module))
    throw new Error('loadModel: wasm must be a WebAssembly.Module or a Uint8Array of the model.wasm bytes');
  if (
    relaxedWasm !== undefined &&
    !(relaxedWasm instanceof Uint8Array) &&
    !(relaxedWasm instanceof WebAssembly.Module)
  )
    throw new Error(
      'loadModel: relaxedWasm must be a WebAssembly.Module or a Uint8Array of the model.relaxed.wasm bytes',
    );
  if (!(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer))
    throw new Error('loadModel: weights must be an ArrayBuffer or a Uint8Array of the weights.bin bytes');
  return {
    manifest: checkManifestShape(manifest),
    wasm,
    ...(relaxedWasm !== undefined ? { relaxedWasm } : {}),
    weights: weights instanceof Uint8Array ? weights : new Uint8Array(weights),
    ...(wgsl !== undefined ? { wgsl } : {}),
    ...(tokenizer !== undefined ? { tokenizer } : {}),
  };
}
