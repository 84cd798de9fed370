/** Reading tensor data stored outside the model file (TensorProto data_location = EXTERNAL). */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { invalid, q } from './errors.js';

export type ReadExternal = (relPath: string, offset: number, length: number | undefined) => Uint8Array;

/**
 * Refuse locations that could read outside the model's directory. Checked on the location string itself,
 * so custom readers get the same protection as the default one.
 */
export function checkExternalLocation(location: string, what: string): void {
  const bad = (why: string) => invalid(`${what}: external data location ${q(location)} ${why}`);
  if (location === '') throw bad('is empty');
  if (location.includes('\0')) throw bad('contains a NUL character');
  if (isAbsolute(location) || /^[A-Za-z]:/.test(location) || location.startsWith('\\'))
    throw bad('is an absolute path; only paths relative to the model directory are allowed');
  const norm = normalize(location.replace(/\\/g, '/'));
  if (norm === '..' || norm.startsWith(`..${sep}`) || norm.startsWith('../'))
    throw bad('escapes the model directory');
}

/** The default reader: reads only the requested byte range of a file under `baseDir`. */
export function fileReader(baseDir: string): ReadExternal {
  return (relPath, offset, length) => {
    const base = realpathSync(baseDir);
    const full = realpathSync(resolve(base, relPath));
    const rel = relative(base, full);
    // A symlink inside baseDir may still point elsewhere; containment is checked on the resolved path.
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
      throw invalid(`external data file ${q(relPath)} resolves outside the model directory`);
    const fd = openSync(full, 'r');
    try {
      const size = fstatSync(fd).size;
      const len = length ?? size - offset;
      if (offset > size || len < 0 || offset + len > size)
        throw invalid(
          `external data file ${q(relPath)} has ${size} bytes; offset ${offset} + length ${len} is past its end`,
        );
      const out = new Uint8Array(len);
      let done = 0;
      while (done < len) {
        const n = readSync(fd, out, done, len - done, offset + done);
        if (n === 0) throw invalid(`external data file ${q(relPath)} ended early`);
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}
