/**
 * Output directories, written whole: the new contents go into a temporary directory beside the target,
 * which then takes the target's place, so nothing of an earlier build is left behind and a failed write
 * leaves the target as it was. Every failure is one message naming the path and the cause.
 */
import { mkdir, mkdtemp, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileError } from '../text/file-error.js';

/**
 * `mkdir -p` that always ends: Node 20's recursive mkdir never returns where a directory cannot be
 * created although its parent exists (e.g. under /proc), so each missing directory is made on its own.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const found = await stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw fileError('cannot create directory', dir, err);
    });
    if (found?.isDirectory()) break;
    if (found) throw new Error(`cannot create directory ${dir}: ${d} exists and is not a directory`);
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse())
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw fileError('cannot create directory', d, err);
    });
}

export interface ReplaceOptions {
  /** replace a non-empty directory that `replaceable` does not accept */
  force?: boolean;
  /** whether a non-empty directory holds what this write may replace (e.g. an earlier bundle) */
  replaceable(dir: string): Promise<boolean>;
  /** names the kind of directory in messages, e.g. "a Kiln bundle" */
  kind: string;
}

/**
 * Where `target` resolves to, and whether a directory is there; throws when writing there is refused: a
 * file, the root, or a non-empty directory `replaceable` does not accept (unless `force`). Callers may
 * check early, before long work; `replaceDirectory` checks again.
 */
export async function checkTarget(
  target: string,
  options: ReplaceOptions,
): Promise<{ path: string; exists: boolean }> {
  const existing = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw fileError('cannot write to', target, err);
  });
  if (existing && !existing.isDirectory()) throw new Error(`cannot write to ${target}: it is a file`);
  // the real directory, so that a symbolic link to it is replaced where it points
  const path = existing ? await realpath(target) : resolve(target);
  if (dirname(path) === path) throw new Error(`cannot write to ${target}: it is the file system root`);
  if (existing && !options.force && (await readdir(path)).length > 0 && !(await options.replaceable(path)))
    throw new Error(
      `${target} is not empty and is not ${options.kind}; refusing to replace it without --force`,
    );
  return { path, exists: existing !== undefined };
}

/**
 * Fill a fresh directory with `fill` and put it at `target`, replacing the directory there (refused as
 * `checkTarget` says, before anything is written).
 */
export async function replaceDirectory(
  target: string,
  fill: (dir: string) => Promise<void>,
  options: ReplaceOptions,
): Promise<void> {
  const { path, exists } = await checkTarget(target, options);
  const parent = dirname(path);
  await makeDirectory(parent);
  const fresh = await mkdtemp(join(parent, `.${basename(path)}.kiln-`)).catch((err) => {
    throw fileError('cannot create directory', target, err);
  });
  const old = `${fresh}.old`;
  let moved = false;
  try {
    await fill(fresh);
    if (exists) {
      await rename(path, old);
      moved = true;
    }
    await rename(fresh, path);
  } catch (err) {
    // put back what was there, drop what was written
    if (moved) await rename(old, path).catch(() => {});
    await rm(fresh, { recursive: true, force: true });
    throw (err as NodeJS.ErrnoException).code?.startsWith('E')
      ? fileError('cannot write to', target, err)
      : err;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}
