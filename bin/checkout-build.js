// The CLI of a source checkout, transpiled: esbuild turns every TypeScript file that tsconfig.build.json
// compiles (src/, workers/, cdk/) into .js under .kiln/cli/<key>/, laid out as dist/ is. The key is a
// hash of each source's path and contents (plus the build settings), so a changed, added or removed
// source gives a new key and a fresh build: the checkout never runs stale code. Contents, not mtimes:
// a file rewritten with its size and mtime kept (`cp -p`, `rsync -a`, `touch -r`, a filesystem with 1-2 s
// timestamps) would keep an mtime key. Hashing the ~1.6 MB of sources costs about 5 ms of CPU against
// 1.4 ms for stat calls. esbuild builds the very bytes that were hashed, so an edit made during a build
// cannot land under the key of the text before it. A build lands by an atomic rename, so concurrent
// `kiln` processes never see half a tree.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Builds of other sources are removed once they are this old (a long-running `kiln serve` may still use one). */
const STALE_BUILD_MS = 60 * 60 * 1000;

/** The .ts files tsconfig.build.json compiles, relative to `root`. */
function sourceFiles(root) {
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(relative(root, path));
    }
  };
  for (const dir of include) walk(join(root, dir));
  return files.sort();
}

/**
 * Every source's bytes, read once: the key is made of them and esbuild builds them. Keyed by path under
 * the real path of `root`, as esbuild names the files it loads.
 */
function readSources(root, sources) {
  const real = realpathSync(root);
  return new Map(sources.map((path) => [join(real, path), readFileSync(join(real, path))]));
}

/** A hash of what the build depends on: the sources' paths and contents, the tsconfigs and this builder. */
function buildKey(root, contents) {
  const hash = createHash('sha256');
  const builder = fileURLToPath(import.meta.url);
  const settings = ['tsconfig.json', 'tsconfig.build.json'].map((p) => join(root, p));
  for (const path of [...contents.keys(), ...settings, builder]) {
    const bytes = contents.get(path) ?? readFileSync(path);
    hash.update(`${relative(root, path)}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

/** An esbuild plugin that loads each source from `contents` instead of reading the file again. */
function hashedSources(contents) {
  return {
    name: 'hashed-sources',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, ({ path }) => {
        const bytes = contents.get(path);
        return bytes && { contents: bytes, loader: 'ts' };
      });
    },
  };
}

/** Removes builds of other keys that nothing has touched for a while. */
function pruneOldBuilds(cacheDir, keep) {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (name !== keep && Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS)
      rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The folder holding the transpiled checkout whose sources are those under `root` now; built first
 * when no build of exactly these sources exists (`onBuild` is told, e.g. to print a progress line).
 */
export async function checkoutBuild(root, onBuild = () => {}) {
  const sources = sourceFiles(root);
  const contents = readSources(root, sources);
  const key = buildKey(realpathSync(root), contents);
  const cacheDir = join(root, '.kiln', 'cli');
  const outDir = join(cacheDir, key);
  if (existsSync(outDir)) return outDir;
  onBuild(sources.length);
  const { build } = await import('esbuild');
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  await build({
    absWorkingDir: root,
    entryPoints: sources,
    outdir: tmpDir,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: 'tsconfig.json',
    logLevel: 'error',
    plugins: [hashedSources(contents)],
  });
  try {
    await rename(tmpDir, outDir);
  } catch (err) {
    // another kiln process built the same sources first: use its tree
    if (!existsSync(outDir)) throw err;
    await rm(tmpDir, { recursive: true, force: true });
  }
  pruneOldBuilds(cacheDir, key);
  return outDir;
}
