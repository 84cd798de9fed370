/**
 * The tampered-bundle campaign: an untouched bundle of a small CNN, then one copy per tampering — every
 * manifest field changed (numbers off by one, negative, huge, fractional or of another type; strings
 * emptied or pointing elsewhere; keys removed; arrays emptied, doubled or reversed) and every file
 * flipped, truncated, extended, emptied or removed — each loaded and run in a sandbox child. A bundle
 * must be refused with a clear error, or load and give the untouched bundle's outputs.
 */
import {
  appendFileSync,
  cpSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../../src/bundle/index.js';
import { writeBundle } from '../../src/bundle/node.js';
import { compileModel } from '../../src/compiler/compile.js';
import { cnnModel } from '../../tests/helpers/models.js';
import { seededRandom } from '../../tests/helpers/onnx-builder.js';
import type { CaseResult } from './outcomes.js';
import type { JobPool } from './pool.js';
import { seededSample } from './sample.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

interface Tampering {
  kind: string;
  /** changes the bundle copy in `dir` */
  apply(dir: string): void;
}

/** Arrays longer than this have only their first, middle and last elements tampered with. */
const MAX_ELEMENTS = 3;

function replacements(value: Json): Json[] {
  if (typeof value === 'number') return [value + 1, value - 1, -1, 2 ** 53, value + 0.5, String(value), null];
  if (typeof value === 'string') return ['', `${value}x`, `../${value}`, 7, null];
  if (typeof value === 'boolean') return [!value, String(value), null];
  if (Array.isArray(value))
    return [[], [...value, ...value], ...(value.length > 1 ? [[...value].reverse()] : []), {}];
  return value === null ? [0] : [[], null];
}

/** Every field of the manifest (containers and leaves) with each replacement, and each key removed. */
function manifestEdits(manifest: Json, path: Path = []): { path: Path; value: Json | undefined }[] {
  const edits: { path: Path; value: Json | undefined }[] =
    path.length === 0 ? [] : replacements(manifest).map((value) => ({ path, value }));
  if (Array.isArray(manifest)) {
    const picked =
      manifest.length > MAX_ELEMENTS ? [0, manifest.length >> 1, manifest.length - 1] : manifest.keys();
    for (const i of picked) edits.push(...manifestEdits(manifest[i], [...path, i]));
  } else if (manifest !== null && typeof manifest === 'object')
    for (const [key, child] of Object.entries(manifest)) {
      edits.push({ path: [...path, key], value: undefined });
      edits.push(...manifestEdits(child, [...path, key]));
    }
  return edits;
}

function edited(manifest: Json, path: Path, value: Json | undefined): Json {
  const copy = structuredClone(manifest);
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

function fileTamperings(file: string, size: number): Tampering[] {
  const flip = (at: number): Tampering => ({
    kind: `${file}: flip byte ${at}`,
    apply: (dir) => {
      const bytes = readFileSync(join(dir, file));
      bytes[at] ^= 0x10;
      writeFileSync(join(dir, file), bytes);
    },
  });
  return [
    ...(size > 0 ? [...new Set([0, size >> 1, size - 1])].map(flip) : []),
    { kind: `${file}: truncated to half`, apply: (dir) => truncateSync(join(dir, file), size >> 1) },
    { kind: `${file}: a byte appended`, apply: (dir) => appendFileSync(join(dir, file), new Uint8Array(1)) },
    { kind: `${file}: emptied`, apply: (dir) => writeFileSync(join(dir, file), '') },
    { kind: `${file}: removed`, apply: (dir) => rmSync(join(dir, file)) },
  ];
}

function tamperings(pristine: string): Tampering[] {
  const manifest = JSON.parse(readFileSync(join(pristine, MANIFEST_FILE), 'utf8')) as Json;
  const fields = manifestEdits(manifest).map(({ path, value }): Tampering => ({
    kind: `manifest.${path.join('.')} ${value === undefined ? 'removed' : `= ${JSON.stringify(value).slice(0, 40)}`}`,
    apply: (dir) => writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(edited(manifest, path, value))),
  }));
  const files = readdirSync(pristine).flatMap((file) =>
    fileTamperings(file, readFileSync(join(pristine, file)).byteLength),
  );
  return [...fields, ...files];
}

/** Compiles the untouched bundle and runs `count` of its tamperings (all when undefined), picked by `seed`. */
export async function fuzzBundles(
  count: number | undefined,
  seed: number,
  pool: JobPool,
  workDir: string,
  onResult: (result: CaseResult) => void,
): Promise<void> {
  const pristine = join(workDir, 'pristine');
  await writeBundle(pristine, await compileModel(cnnModel(), { name: 'cnn' }));
  const all = tamperings(pristine);
  const picked = seededSample(all, count, seededRandom(seed));
  await pool.runAll(
    picked,
    (tampering, i) => {
      const dir = join(workDir, `tampered-${i}`);
      cpSync(pristine, dir, { recursive: true });
      tampering.apply(dir);
      return { type: 'bundle', dir, reference: pristine };
    },
    (result, i) => {
      rmSync(join(workDir, `tampered-${i}`), { recursive: true, force: true });
      onResult({ id: `bundles #${i}`, kind: picked[i].kind, ...result });
    },
  );
}
