/**
 * Checks a bundle before anything runs it: format version, the sha256 of every file, and that the
 * weights table and memory plan agree with the files and with each other. A bundle that fails is
 * refused with one clear message, never half-loaded.
 */
import { FORMAT_VERSION, type Manifest, type TensorSignature, type WeightEntry } from './manifest.js';
import { WEIGHTS_FILE, WEIGHT_ALIGNMENT, WGSL_FILE, type LoadedBundleFiles } from './files.js';
import { elementBytes, elementCount, isNumericDType } from './elements.js';
import { sha256Hex } from './hash.js';

const WASM_PAGE = 65536;
/** a plain file name: readers join it to a directory or URL, so a path could reach outside the bundle */
const WASM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.wasm$/;

/**
 * Verify a bundle; throws on the first problem found. When `files.wasm` (or `relaxedWasm`) is an already compiled
 * `WebAssembly.Module` (the Worker case) its bytes are out of reach, so its hash cannot be checked:
 * the Worker's deploy step put the module there from a verified bundle. Every other file is checked.
 */
export async function verifyBundle(files: LoadedBundleFiles): Promise<void> {
  const manifest = checkManifestShape(files.manifest);
  await checkHashes(manifest, files);
  checkWeights(manifest, files.weights.byteLength);
  checkMemoryPlan(manifest);
}

/** Structural check of a parsed manifest.json, format version first (a newer format may differ in shape). */
export function checkManifestShape(value: unknown): Manifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('bundle manifest must be a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== FORMAT_VERSION)
    throw new Error(
      `bundle format version ${String(m.format)} is not supported by this runtime (supports ${FORMAT_VERSION})`,
    );
  const fail = (what: string): never => {
    throw new Error(`bundle manifest is malformed: ${what}`);
  };
  if (
    typeof m.model !== 'object' ||
    m.model === null ||
    typeof (m.model as { name?: unknown }).name !== 'string'
  )
    fail('model.name must be a string');
  for (const key of ['inputs', 'outputs', 'weights', 'targets'] as const)
    if (!Array.isArray(m[key])) fail(`${key} must be an array`);
  for (const key of ['inputs', 'outputs'] as const)
    (m[key] as unknown[]).forEach((sig, i) => checkSignature(sig, `${key}[${i}]`, fail));
  (m.weights as unknown[]).forEach((w, i) => checkWeightEntry(w, `weights[${i}]`, fail));
  if (typeof m.memory !== 'object' || m.memory === null) fail('memory must be an object');
  const memory = m.memory as Record<string, unknown>;
  for (const key of [
    'totalBytes',
    'weightsOffset',
    'weightsBytes',
    'persistentOffset',
    'persistentBytes',
    'ioOffset',
    'ioBytes',
    'arenaOffset',
    'arenaBytes',
  ])
    if (!isByteCount(memory[key])) fail(`memory.${key} must be a non-negative integer`);
  const wasm = m.wasm as { file?: unknown; exports?: Record<string, unknown> } | undefined;
  if (typeof wasm?.file !== 'string' || typeof wasm.exports !== 'object' || wasm.exports === null)
    fail('wasm.file and wasm.exports must be present');
  if (!WASM_NAME.test(wasm!.file as string))
    fail(`wasm.file "${String(wasm!.file)}" must be a plain .wasm file name`);
  for (const key of ['memory', 'init', 'run'])
    if (typeof wasm!.exports![key] !== 'string') fail(`wasm.exports.${key} must be a string`);
  const relaxed = (wasm as { relaxed?: unknown }).relaxed;
  if (relaxed !== undefined) {
    const file = (relaxed as { file?: unknown } | null)?.file;
    if (typeof file !== 'string' || !WASM_NAME.test(file) || file === wasm!.file)
      fail(`wasm.relaxed.file "${String(file)}" must be a plain .wasm file name other than wasm.file`);
  }
  if (typeof m.files !== 'object' || m.files === null) fail('files must map file names to sha256 hashes');
  return value as Manifest;
}

function checkSignature(sig: unknown, where: string, fail: (what: string) => never): void {
  const s = sig as Partial<TensorSignature> | null;
  if (typeof s?.name !== 'string') fail(`${where}.name must be a string`);
  if (typeof s!.dtype !== 'string' || !isNumericDType(s!.dtype))
    fail(`${where} ("${s!.name}") has dtype ${String(s!.dtype)}, which the runtime cannot hold in memory`);
  if (!Array.isArray(s!.shape) || !s!.shape.every(isByteCount))
    fail(`${where} ("${s!.name}") shape must be a list of non-negative integers`);
  if (!isByteCount(s!.offset) || !isByteCount(s!.byteLength))
    fail(`${where} ("${s!.name}") offset and byteLength must be non-negative integers`);
}

function checkWeightEntry(entry: unknown, where: string, fail: (what: string) => never): void {
  const w = entry as Partial<WeightEntry> | null;
  if (typeof w?.name !== 'string') fail(`${where}.name must be a string`);
  if (typeof w!.dtype !== 'string') fail(`${where} ("${w!.name}") dtype must be a string`);
  if (!Array.isArray(w!.dims) || !w!.dims.every(isByteCount))
    fail(`${where} ("${w!.name}") dims must be a list of non-negative integers`);
  if (!isByteCount(w!.offset) || !isByteCount(w!.byteLength))
    fail(`${where} ("${w!.name}") offset and byteLength must be non-negative integers`);
}

function isByteCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

async function checkHashes(manifest: Manifest, files: LoadedBundleFiles): Promise<void> {
  const held: [string, Uint8Array | string | undefined][] = [
    [manifest.wasm.file, files.wasm instanceof Uint8Array ? files.wasm : undefined],
    [WEIGHTS_FILE, files.weights],
  ];
  const relaxed = manifest.wasm.relaxed;
  if (files.relaxedWasm !== undefined && !relaxed)
    throw new Error('a relaxed-SIMD module was passed in but the bundle manifest lists none (wasm.relaxed)');
  // listed but not read (a runtime that will not run it skips it): its hash must still be listed
  if (relaxed)
    held.push([relaxed.file, files.relaxedWasm instanceof Uint8Array ? files.relaxedWasm : undefined]);
  if (files.wgsl !== undefined) held.push([WGSL_FILE, files.wgsl]);
  for (const [name, bytes] of held) {
    const expected = manifest.files[name];
    if (typeof expected !== 'string')
      throw new Error(`bundle manifest lists no sha256 for ${name}: the bundle is incomplete`);
    if (bytes === undefined) continue;
    if ((await sha256Hex(bytes)) !== expected.toLowerCase())
      throw new Error(`bundle file ${name} failed its sha256 check: the bundle is corrupt or was modified`);
  }
}

function checkWeights(manifest: Manifest, weightsFileBytes: number): void {
  const { weightsBytes } = manifest.memory;
  if (weightsBytes !== weightsFileBytes)
    throw new Error(
      `bundle ${WEIGHTS_FILE} holds ${weightsFileBytes} bytes but the memory plan expects ${weightsBytes}`,
    );
  for (const w of manifest.weights) {
    const storage = w.quant?.dtype ?? w.dtype;
    const where = `bundle weight "${w.name}"`;
    if (!isNumericDType(storage)) throw new Error(`${where} has unsupported dtype ${storage}`);
    if (w.offset % WEIGHT_ALIGNMENT !== 0)
      throw new Error(`${where} starts at byte ${w.offset}, which is not ${WEIGHT_ALIGNMENT}-byte aligned`);
    const expected = elementCount(w.dims) * elementBytes(storage);
    if (w.byteLength !== expected)
      throw new Error(
        `${where} is ${w.byteLength} bytes but ${storage}[${w.dims.join(',')}] needs ${expected} bytes`,
      );
    if (w.offset + w.byteLength > weightsBytes)
      throw new Error(
        `${where} (bytes ${w.offset}..${w.offset + w.byteLength}) lies outside ${WEIGHTS_FILE}`,
      );
  }
}

interface Region {
  what: string;
  start: number;
  end: number;
}

function checkMemoryPlan(manifest: Manifest): void {
  const mem = manifest.memory;
  if (mem.totalBytes === 0 || mem.totalBytes % WASM_PAGE !== 0)
    throw new Error(`bundle memory plan: totalBytes ${mem.totalBytes} is not a positive multiple of 64 KiB`);
  const weights = region('the weights', mem.weightsOffset, mem.weightsBytes);
  const persistent = region('the persistent region', mem.persistentOffset, mem.persistentBytes);
  const io = region('the input/output region', mem.ioOffset, mem.ioBytes);
  const arena = region('the arena', mem.arenaOffset, mem.arenaBytes);
  for (const r of [weights, persistent, io, arena]) checkInsideMemory(r, mem.totalBytes);
  checkSignatures('input', manifest.inputs, mem.totalBytes);
  checkSignatures('output', manifest.outputs, mem.totalBytes);
  // Inputs are written before every run: outside their region, or overlapping one another, they
  // would corrupt the weights or the values init() computed.
  const inputs = manifest.inputs.map((s) => region(`input "${s.name}"`, s.offset, s.byteLength));
  inputs.forEach((input, i) => {
    if (input.start < io.start || input.end > io.end)
      throw new Error(
        `bundle memory plan: ${input.what} (bytes ${input.start}..${input.end}) lies outside ${io.what} (bytes ${io.start}..${io.end})`,
      );
    for (const other of inputs.slice(i + 1))
      if (overlaps(input, other)) throw new Error(`bundle memory plan: ${input.what} overlaps ${other.what}`);
  });
}

function checkSignatures(kind: string, sigs: TensorSignature[], totalBytes: number): void {
  const seen = new Set<string>();
  for (const s of sigs) {
    if (seen.has(s.name)) throw new Error(`bundle manifest lists ${kind} "${s.name}" twice`);
    seen.add(s.name);
    const expected = elementCount(s.shape) * elementBytes(s.dtype as Exclude<typeof s.dtype, 'string'>);
    if (s.byteLength !== expected)
      throw new Error(
        `bundle ${kind} "${s.name}" is ${s.byteLength} bytes but ${s.dtype}[${s.shape.join(',')}] needs ${expected}`,
      );
    checkInsideMemory(region(`${kind} "${s.name}"`, s.offset, s.byteLength), totalBytes);
  }
}

function region(what: string, start: number, bytes: number): Region {
  return { what, start, end: start + bytes };
}

function checkInsideMemory(r: Region, totalBytes: number): void {
  if (r.end > totalBytes)
    throw new Error(
      `bundle memory plan: ${r.what} (bytes ${r.start}..${r.end}) exceeds memory of ${totalBytes} bytes`,
    );
}

function overlaps(a: Region, b: Region): boolean {
  return a.start < b.end && b.start < a.end && a.end > a.start && b.end > b.start;
}
