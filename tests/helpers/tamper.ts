/**
 * Mutations of a bundle for the tampered-bundle suite: every field of the manifest (each leaf and each
 * object or array, at every depth) changed in the ways a careless edit or a hostile one would, and every
 * file flipped, truncated, removed, or joined by an extra one. Deterministic: same bundle, same cases.
 */

export interface ManifestMutation {
  /** e.g. `outputs[0].offset: +16` */
  name: string;
  manifest: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every field of `manifest` mutated, one mutation per case; mutations that change nothing are left out. */
export function manifestMutations(manifest: Json): ManifestMutation[] {
  const original = JSON.stringify(manifest);
  const out: ManifestMutation[] = [];
  const visit = (value: Json, path: Path) => {
    for (const [what, replacement] of replacements(value)) {
      const mutated = replaceAt(manifest, path, replacement);
      if (JSON.stringify(mutated) !== original)
        out.push({ name: `${formatPath(path)}: ${what}`, manifest: mutated });
    }
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...path, i]));
    else if (typeof value === 'object' && value !== null)
      for (const [key, v] of Object.entries(value)) visit(v, [...path, key]);
  };
  visit(manifest, []);
  return out;
}

/** A value's mutations; `REMOVE` drops it from its object or array. */
const REMOVE = Symbol('remove');

function replacements(value: Json): [string, Json | typeof REMOVE][] {
  const common: [string, Json | typeof REMOVE][] = [
    ['removed', REMOVE],
    ['null', null],
  ];
  if (typeof value === 'number')
    return [
      ...common,
      ['+1', value + 1],
      ['-1', value - 1],
      ['+16', value + 16],
      ['-16', value - 16],
      ['×2', value * 2],
      ['0', 0],
      ['-1 (negative)', -1],
      ['+0.5', value + 0.5],
      ['2^53', 2 ** 53],
      ['as a string', String(value)],
    ];
  if (typeof value === 'string')
    return [
      ...common,
      ['empty', ''],
      ['a character appended', `${value}x`],
      ['first character changed', value ? `${value[0] === 'a' ? 'b' : 'a'}${value.slice(1)}` : 'a'],
      ['a path', `../${value}`],
      ['a number', 1],
    ];
  if (typeof value === 'boolean') return [...common, ['negated', !value], ['as a string', String(value)]];
  if (Array.isArray(value))
    return [
      ...common,
      ['emptied', []],
      ['first element dropped', value.slice(1)],
      ['first element repeated', value.length ? [value[0], ...value] : [0]],
      ['reversed', [...value].reverse()],
      ['an object', {}],
    ];
  if (value !== null)
    return [...common, ['emptied', {}], ['an array', []], ['an extra field', { ...value, extra: 1 }]];
  return common;
}

function replaceAt(root: Json, path: Path, replacement: Json | typeof REMOVE): Json {
  if (path.length === 0) return replacement === REMOVE ? null : replacement;
  const [key, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (rest.length === 0 && replacement === REMOVE) copy.splice(key as number, 1);
    else copy[key as number] = replaceAt(root[key as number], rest, replacement);
    return copy;
  }
  const copy = { ...(root as Record<string, Json>) };
  if (rest.length === 0 && replacement === REMOVE) delete copy[key];
  else copy[key] = replaceAt(copy[key], rest, replacement);
  return copy;
}

function formatPath(path: Path): string {
  return (
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') || '(the manifest)'
  );
}

export interface FileMutation {
  name: string;
  /** the bundle's files after the mutation (a file left out was removed) */
  files: Map<string, Uint8Array>;
}

/** Each file flipped (first, middle, last byte), truncated (empty, half, one byte short), removed; plus an extra file. */
export function fileMutations(files: Map<string, Uint8Array>): FileMutation[] {
  const out: FileMutation[] = [];
  const withFile = (name: string, bytes: Uint8Array | undefined) => {
    const copy = new Map(files);
    if (bytes === undefined) copy.delete(name);
    else copy.set(name, bytes);
    return copy;
  };
  for (const [name, bytes] of files) {
    for (const [where, at] of [
      ['first', 0],
      ['middle', bytes.length >> 1],
      ['last', bytes.length - 1],
    ] as const) {
      const flipped = bytes.slice();
      flipped[at] ^= 1;
      out.push({ name: `${name}: ${where} byte flipped`, files: withFile(name, flipped) });
    }
    out.push({ name: `${name}: emptied`, files: withFile(name, new Uint8Array(0)) });
    out.push({ name: `${name}: cut to half`, files: withFile(name, bytes.slice(0, bytes.length >> 1)) });
    out.push({ name: `${name}: one byte short`, files: withFile(name, bytes.slice(0, -1)) });
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    out.push({ name: `${name}: one byte longer`, files: withFile(name, longer) });
    out.push({ name: `${name}: removed`, files: withFile(name, undefined) });
  }
  out.push({ name: 'an extra file', files: withFile('extra.bin', Uint8Array.of(1, 2, 3)) });
  return out;
}
