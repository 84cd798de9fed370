/**
 * Dawn for the GPU instances: the `webgpu` package installed where `kiln deploy` runs, trimmed to what
 * Linux x64 loads, copied into the server folder's node_modules/webgpu — where Node resolves
 * kiln-serve.mjs's `import('webgpu')` (kept external by gpu-build.ts). The package's index.js loads
 * dist/<platform>-<arch>/dawn.node, which links only glibc ≤ 2.34 and libstdc++ (GLIBCXX_3.4.30, GCC 12),
 * both in Ubuntu 22.04, and opens the Vulkan loader (libvulkan1) at run time; the other platforms'
 * binaries (about 110 MB) and the typings stay behind.
 */
import { cp, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { installCommand } from './peers.js';
import { DeployError } from './types.js';

/** The instances' platform (g5, g6, g6e are x86_64) as the package names its folders. */
export const DAWN_PLATFORM = 'linux-x64';
/** LICENSE.md travels because the MIT license asks every copy to carry it. */
const PACKAGE_FILES = ['package.json', 'index.js', 'LICENSE.md'];

/** The installed package, checked to hold what the instances load. */
export interface InstalledDawn {
  packageDir: string;
  version: string;
  /** bytes of dist/linux-x64/, what the server folder grows by */
  bytes: number;
}

/** Before anything is built: a missing or unfit package stops the deploy with the install command. */
export async function findDawn(): Promise<InstalledDawn> {
  const packageDir = installedPackageDir();
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const where = `the webgpu package ${version} at ${packageDir}`;
  const binaries = join(packageDir, 'dist', DAWN_PLATFORM);
  if (!(await stat(join(binaries, 'dawn.node')).catch(() => undefined)))
    throw new DeployError(
      `${where} has no dist/${DAWN_PLATFORM}/dawn.node for the GPU instances: ${installCommand(['webgpu'])}`,
    );
  await checkOnlyBuiltins(join(packageDir, 'index.js'), where);
  return { packageDir, version, bytes: await folderBytes(binaries) };
}

/** Copies the trimmed package to serverDir/node_modules/webgpu. */
export async function copyDawn({ packageDir }: InstalledDawn, serverDir: string): Promise<void> {
  const to = join(serverDir, 'node_modules', 'webgpu');
  await mkdir(to, { recursive: true });
  for (const file of PACKAGE_FILES) await cp(join(packageDir, file), join(to, file));
  const binaries = join('dist', DAWN_PLATFORM);
  await cp(join(packageDir, binaries), join(to, binaries), { recursive: true });
}

/** Where kiln serve's own `import('webgpu')` finds it (the package's main, index.js, is at its root). */
function installedPackageDir(): string {
  try {
    return dirname(fileURLToPath(import.meta.resolve('webgpu')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new DeployError(
      `the GPU instances serve on WebGPU through the 'webgpu' package (Dawn for Node), which is not installed here: ${installCommand(['webgpu'])}`,
    );
  }
}

/** The server folder holds no other package, so index.js may import nothing but Node's built-ins. */
async function checkOnlyBuiltins(indexJs: string, where: string): Promise<void> {
  const result = await build({
    entryPoints: [indexJs],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
  const packages = imports.map((i) => i.path).filter((path) => !isBuiltin(path));
  if (packages.length > 0)
    throw new DeployError(
      `${where}: its index.js imports ${packages.join(', ')}, which the server folder would lack; install the version Kiln is tested with: ${installCommand(['webgpu'])}`,
    );
}

async function folderBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const sizes = await Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).size),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
