/**
 * Builds the server folder a Kiln GPU instance runs, so that the instances need nothing from npm:
 * kiln-serve.mjs (`kiln serve` — the serving app, the runtime, Hono's Node server — bundled by esbuild
 * for Node 20, without the compiler), Dawn for Linux x64 under node_modules/webgpu (gpu-dawn.ts) and
 * each bundle's files under models/<name>/.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { ServedBundle } from './bundles.js';
import { copyDawn, type InstalledDawn } from './gpu-dawn.js';
import { kilnModule } from './sources.js';

export const SERVER_SCRIPT = 'kiln-serve.mjs';

/** The serve command with the kiln CLI's error reporting (one line; usage and exit status 2 for a wrong command line). */
const ENTRY = `
import { serveCommand } from ${JSON.stringify(kilnModule('src/cli/commands/serve'))};
import { reportError } from ${JSON.stringify(kilnModule('src/cli/errors'))};
try {
  await serveCommand.run(process.argv.slice(2));
} catch (err) {
  process.exitCode = reportError(err, false);
}
`;

export interface GpuServer {
  dir: string;
  scriptBytes: number;
}

/** Writes the folder afresh (no file of an earlier build may ride along into the asset). */
export async function buildGpuServer(
  serverDir: string,
  bundles: ServedBundle[],
  dawn: InstalledDawn,
): Promise<GpuServer> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: import.meta.dirname, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    // Dawn is a native addon that esbuild cannot bundle: Node finds it in the folder's node_modules
    external: ['webgpu'],
    logLevel: 'warning',
  });
  const compilerParts = Object.keys(result.metafile.inputs).filter((p) =>
    /(^|\/)(src\/(compiler|frontend|passes|codegen)\/|node_modules\/binaryen\/)/.test(p),
  );
  if (compilerParts.length > 0)
    throw new Error(`the GPU server bundle pulled in compiler code: ${compilerParts.slice(0, 3).join(', ')}`);
  await rm(serverDir, { recursive: true, force: true });
  await mkdir(serverDir, { recursive: true });
  const script = result.outputFiles[0].contents;
  await writeFile(join(serverDir, SERVER_SCRIPT), script);
  await copyDawn(dawn, serverDir);
  for (const { name, files } of bundles) {
    const dir = join(serverDir, 'models', name);
    await mkdir(dir, { recursive: true });
    for (const [file, bytes] of files) await writeFile(join(dir, file), bytes);
  }
  return { dir: serverDir, scriptBytes: script.byteLength };
}
