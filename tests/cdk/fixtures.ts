/** Tiny stand-ins for the artifacts the constructs deploy: synthesis only hashes and stages them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';

export interface Artifacts {
  /** A Lambda deployment zip holding a handler module. */
  readonly lambdaZip: string;
  /** A bundle directory with the three files of a compiled model. */
  readonly bundleDir: string;
  readonly cleanup: () => void;
}

export function makeArtifacts(): Artifacts {
  const root = mkdtempSync(join(tmpdir(), 'kiln-cdk-'));
  const lambdaZip = join(root, 'lambda.zip');
  writeFileSync(
    lambdaZip,
    zipSync({ 'index.mjs': new TextEncoder().encode('export const handler = async () => ({});') }),
  );
  const bundleDir = join(root, 'bundle');
  mkdirSync(bundleDir);
  for (const file of ['manifest.json', 'model.wasm', 'weights.bin'])
    writeFileSync(join(bundleDir, file), file);
  return { lambdaZip, bundleDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
