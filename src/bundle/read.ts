/**
 * Reads a bundle's files through any byte source (a directory, a URL), so the Node, fetch and
 * Worker paths share one reader. The result is not verified yet: pass it to `verifyBundle`.
 */
import { MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE, WGSL_FILE, type BundleFiles } from './files.js';
import { checkManifestShape } from './verify.js';

/** Returns the bytes of one bundle file, or throws if it cannot. */
export type BundleFileReader = (name: string) => Promise<Uint8Array>;

export interface ReadOptions {
  /** read the relaxed-SIMD module when the manifest lists one (default true); a runtime that will not use it skips the bytes */
  relaxed?: boolean;
}

export async function readBundle(
  readFile: BundleFileReader,
  where: string,
  options: ReadOptions = {},
): Promise<BundleFiles> {
  const read = async (name: string): Promise<Uint8Array> => {
    try {
      return await readFile(name);
    } catch (err) {
      throw new Error(`cannot read ${name} of the bundle at ${where}: ${(err as Error).message}`);
    }
  };
  const manifestText = new TextDecoder().decode(await read(MANIFEST_FILE));
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(
      // the parser quotes the text around the error, newlines included: keep the message one line
      `${MANIFEST_FILE} of the bundle at ${where} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`,
    );
  }
  const manifest = checkManifestShape(parsed);
  const [wasm, weights] = await Promise.all([read(manifest.wasm.file), read(WEIGHTS_FILE)]);
  const files: BundleFiles = { manifest, wasm, weights };
  const relaxed = manifest.wasm.relaxed;
  if (relaxed && (options.relaxed ?? true)) files.relaxedWasm = await read(relaxed.file);
  if (WGSL_FILE in manifest.files) files.wgsl = new TextDecoder().decode(await read(WGSL_FILE));
  if (manifest.tokenizer) files.tokenizer = new TextDecoder().decode(await read(TOKENIZER_FILE));
  return files;
}
