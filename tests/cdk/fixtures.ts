/** Tiny stand-ins for the artifacts the constructs deploy: synthesis only hashes, lists and stages them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';

export interface Artifacts {
  /** A Lambda deployment zip holding a handler module. */
  readonly lambdaZip: string;
  /** A Lambda deployment zip holding also a bundle manifest whose memory plan needs 3 GiB. */
  readonly bigModelZip: string;
  /** A GPU server folder: kiln-serve.mjs and two bundles under models/. */
  readonly serverDir: string;
  readonly root: string;
  readonly cleanup: () => void;
}

const text = (s: string) => new TextEncoder().encode(s);

export function makeArtifacts(): Artifacts {
  const root = mkdtempSync(join(tmpdir(), 'kiln-cdk-'));
  const handler = text('export const handler = async () => ({});');
  const lambdaZip = join(root, 'lambda.zip');
  writeFileSync(lambdaZip, zipSync({ 'index.mjs': handler }));
  const bigModelZip = join(root, 'big.zip');
  const memory = { totalBytes: 3 * 2 ** 30, weightsBytes: 0 };
  writeFileSync(
    bigModelZip,
    zipSync({ 'index.mjs': handler, 'models/big/manifest.json': text(JSON.stringify({ memory })) }),
  );
  const serverDir = join(root, 'gpu-server');
  writeFileSync(join(mkdirp(serverDir), 'kiln-serve.mjs'), '// the server');
  for (const model of ['beta', 'alpha'])
    for (const file of ['manifest.json', 'model.wasm', 'weights.bin'])
      writeFileSync(join(mkdirp(join(serverDir, 'models', model)), file), file);
  return {
    lambdaZip,
    bigModelZip,
    serverDir,
    root,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
