/**
 * `kiln` in a source checkout (bin/kiln.js + bin/checkout-build.js): it runs a transpiled copy of the
 * sources, never TypeScript through a loader at each call, and never a build older than the sources.
 * Each test works on its own copy of the checkout, so editing a source touches nothing here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CHECKOUT = ['bin', 'src', 'workers', 'cdk', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
// A loader hook that fails the process as soon as a TypeScript module is loaded.
const NO_TYPESCRIPT = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function load(url, context, next) {' +
  '  if (/\\\\.ts$/.test(url)) throw new Error("TypeScript loaded at run time: " + url);' +
  '  return next(url, context);' +
  '}'));
`)}`;

const USAGE = "'usage: kiln <command> [options] [--verbose]'";

let checkout: string;

const kiln = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', NO_TYPESCRIPT, join(checkout, 'bin/kiln.js'), ...args], {
    cwd: checkout,
  });
const builds = () => readdir(join(checkout, '.kiln/cli'));

beforeEach(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'kiln-checkout-'));
  await Promise.all(CHECKOUT.map((p) => cp(join(ROOT, p), join(checkout, p), { recursive: true })));
  await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
});

afterEach(async () => {
  await rm(checkout, { recursive: true, force: true });
});

describe('kiln in a source checkout', () => {
  it('runs transpiled JavaScript, built once and reused while the sources stay the same', async () => {
    const { stdout } = await kiln('--help');
    expect(stdout).toMatch(/^usage: kiln <command>/);
    expect(await builds()).toHaveLength(1);
    await kiln('--help');
    expect(await builds()).toHaveLength(1);
  });

  it('never runs the old code after a source changed', async () => {
    await kiln('--help');
    const main = join(checkout, 'src/cli/main.ts');
    const source = await readFile(main, 'utf8');
    expect(source).toContain(USAGE);
    await writeFile(main, source.replace(USAGE, "'usage: kiln (edited) <command> [options] [--verbose]'"));
    const { stdout } = await kiln('--help');
    expect(stdout).toMatch(/^usage: kiln \(edited\) <command>/);

    // a new module that an edited source imports is part of the next build
    await writeFile(join(checkout, 'src/cli/banner.ts'), "export const BANNER = 'kiln (new module)';\n");
    await writeFile(
      main,
      `import { BANNER } from './banner.js';\n${source.replace(USAGE, '`usage: ${BANNER} <command> [options] [--verbose]`')}`,
    );
    expect((await kiln('--help')).stdout).toMatch(/^usage: kiln \(new module\) <command>/);
  });

  it('never runs the old code after a source changed with its size and mtime kept', async () => {
    const main = join(checkout, 'src/cli/main.ts');
    // a whole second, which utimes sets exactly
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await utimes(main, mtime, mtime);
    await kiln('--help');
    const source = await readFile(main, 'utf8');
    const edited = "'usage: KILN <command> [options] [--verbose]'";
    expect(edited.length).toBe(USAGE.length);
    await writeFile(main, source.replace(USAGE, edited));
    // as `cp -p`, `rsync -a` or `touch -r` leave a file, or a filesystem with 1-2 s timestamps
    await utimes(main, mtime, mtime);
    expect((await stat(main)).mtimeMs).toBe(mtime.getTime());
    expect((await kiln('--help')).stdout).toMatch(/^usage: KILN <command>/);
    expect(await builds()).toHaveLength(2);
  });
});
