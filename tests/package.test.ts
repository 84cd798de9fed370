/**
 * Kiln as npm installs it: the compiled dist/ (tsconfig.build.json), bin/ and package.json, without
 * src/ or tsx's loader. `kiln deploy` must build and synthesize from the compiled modules alone, and
 * name the packages to install when an optional peer dependency is missing.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_VERSIONS } from '../src/deploy/peers.js';
import { compileMlp, type CompiledBundle } from './serve/fixture.js';

const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const pkgJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

let work: string;
let mlp: CompiledBundle;

/** An installed kiln under `dir` whose node_modules holds the repository's packages but `leaveOut`. */
async function install(dir: string, leaveOut: string[] = []) {
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await cp(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkgJson));
  // copied, not linked: Node resolves a module's packages from its real path
  await cp(join(work, 'dist'), join(dir, 'dist'), { recursive: true });
  for (const name of await readdir(join(ROOT, 'node_modules')))
    if (!leaveOut.includes(name))
      await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  return (...args: string[]) => run(process.execPath, [join(dir, 'bin/kiln.js'), ...args], { cwd: dir });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-package-'));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  [mlp] = await Promise.all([
    compileMlp(),
    run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(work, 'dist')]),
  ]);
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  await mlp?.cleanup();
});

describe('the installed package', () => {
  it('pins the same peer dependency versions the install hints name', () => {
    expect(pkgJson.peerDependencies).toEqual(PEER_VERSIONS);
    for (const [name, version] of Object.entries(PEER_VERSIONS)) {
      expect(pkgJson.devDependencies[name], name).toBe(version);
      expect(pkgJson.peerDependenciesMeta[name], name).toEqual({ optional: true });
    }
  });

  it('exports the runtime, the compiler, the kernel language and the CDK constructs from dist/', () => {
    for (const entry of ['./runtime', './compiler', './kernel', './cdk']) {
      const { default: file, types } = pkgJson.exports[entry];
      expect(readFileSync(join(work, file), 'utf8')).not.toBe('');
      expect(types).toBe(file.replace(/\.js$/, '.d.ts'));
    }
  });

  it('dry-runs every deploy target from the compiled modules', async () => {
    const kiln = await install(join(work, 'installed'));
    for (const target of ['cloudflare', 'lambda', 'gpu']) {
      const out = join(work, `out-${target}`);
      const { stdout } = await kiln(
        'deploy',
        mlp.dir,
        '--target',
        target,
        '--dry-run',
        '--out',
        out,
        '--json',
      );
      const result = JSON.parse(stdout);
      expect(result).toMatchObject({ target, dryRun: true, outDir: out });
      expect(result.artifacts.length).toBeGreaterThan(0);
      for (const artifact of result.artifacts)
        expect(readFileSync(artifact).byteLength, artifact).toBeGreaterThan(0);
    }
  }, 120_000);

  it('names the packages to install when an AWS target lacks its peer dependencies', async () => {
    const kiln = await install(join(work, 'without-aws-sdk'), ['@aws-sdk']);
    const failed = await kiln('deploy', mlp.dir, '--target', 'lambda', '--dry-run').catch((err) => err);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^kiln: --target lambda needs packages that are not installed \(Cannot find package '@aws-sdk\/client-lambda'.*\): npm install --save-dev aws-cdk@2\.1148\.1 aws-cdk-lib@2\.276\.0 constructs@10\.8\.1 cdk-nag@3\.0\.2 @aws-sdk\/client-lambda@3\.1164\.0\n$/,
    );
  });
});
