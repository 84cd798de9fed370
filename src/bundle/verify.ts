/**
 * Checks a bundle before anything runs or ships it (loadModel on every runtime, and `kiln deploy`):
 * format version and manifest structure, the sha256 of every file, the manifest's layout (layout.ts),
 * each wasm module's exports and memory against the contract, and the digest that binds the manifest to
 * its modules (manifest-digest.ts). A bundle that fails is refused with one clear message, never
 * half-loaded.
 */
import {
  FORMAT_VERSION,
  type Manifest,
  type DimsBlock,
  type IndexBound,
  type IndexCheck,
  type Quotient,
  type SymbolicDim,
  type TensorSignature,
  type WeightEntry,
  type WeightQuant,
  type WgslDispatch,
} from './manifest.js';
import type { Polynomial } from '../ir/symbolic.js';
import type { FedFrames, FedRange, FedSlice } from '../ir/graph.js';
import { MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE, WGSL_FILE, type LoadedBundleFiles } from './files.js';
import { isNumericDType } from './elements.js';
import { sha256Hex } from './hash.js';
import { checkLayout, checkWgslEntries } from './layout.js';
import { MANIFEST_DIGEST_SECTION, manifestDigest } from './manifest-digest.js';
import { moduleFacts, type ModuleFacts } from './wasm-sections.js';

/** The exports every Kiln module has (DESIGN.md §3.1); the manifest names them, and must name these. */
export const WASM_EXPORTS = { memory: 'memory', init: 'init', run: 'run' } as const;
const WASM_PAGE = 65536;
const TARGETS = ['wasm', 'webgpu'];
const SHA256 = /^[0-9a-f]{64}$/;
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
  checkLayout(manifest, files.weights.byteLength);
  if (manifest.webgpu && files.wgsl !== undefined) checkWgslEntries(manifest.webgpu, files.wgsl);
  await checkModule(manifest, manifest.wasm.file, files.wasm);
  // a relaxed module that is not even readable would fail to compile: the runtime falls back to
  // model.wasm under 'auto' (relaxed SIMD is never a reason for a failed load) and says why when forced
  if (manifest.wasm.relaxed && files.relaxedWasm !== undefined)
    await checkModule(manifest, manifest.wasm.relaxed.file, files.relaxedWasm, 'skip if unreadable');
}

/** Structural check of a parsed manifest.json, format version first (a newer format may differ in shape). */
export function checkManifestShape(value: unknown): Manifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('bundle manifest must be a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== FORMAT_VERSION)
    throw new Error(
      `bundle format version ${JSON.stringify(m.format) ?? 'undefined'} is not supported by this runtime (supports ${FORMAT_VERSION})`,
    );
  const fail = (what: string): never => {
    throw new Error(`bundle manifest is malformed: ${what}`);
  };
  if (typeof m.compiler !== 'string') fail('compiler must be a string');
  const model = m.model as { name?: unknown; sha256?: unknown } | null;
  if (typeof model !== 'object' || model === null || typeof model.name !== 'string')
    fail('model.name must be a string');
  if (typeof model!.sha256 !== 'string') fail('model.sha256 must be a string');
  for (const key of ['inputs', 'outputs', 'weights', 'targets'] as const)
    if (!Array.isArray(m[key])) fail(`${key} must be an array`);
  const targets = m.targets as unknown[];
  if (!targets.every((t, i) => TARGETS.includes(t as string) && targets.indexOf(t) === i))
    fail(`targets must list each of ${TARGETS.join(', ')} at most once, got ${JSON.stringify(targets)}`);
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
  checkDimsBlock(m, fail);
  checkWasmTarget(m.wasm, fail);
  if (m.webgpu !== undefined) checkWebGpuShape(m.webgpu, m.dims as DimsBlock | undefined, fail);
  if (m.kernels !== undefined && !Array.isArray(m.kernels)) fail('kernels must be an array');
  if (m.tokenizer !== undefined) checkTokenizerShape(m.tokenizer, fail);
  if (m.indexChecks !== undefined) checkIndexChecks(m.indexChecks, m.inputs as TensorSignature[], fail);
  const files = m.files as Record<string, unknown> | null;
  if (typeof files !== 'object' || files === null || Array.isArray(files))
    fail('files must map file names to sha256 hashes');
  // only the bundle's own files: a deploy ships what `files` lists, so a path here could reach outside it
  const wasm = m.wasm as Manifest['wasm'];
  const known = [wasm.file, wasm.relaxed?.file, WEIGHTS_FILE, WGSL_FILE, TOKENIZER_FILE];
  for (const [name, hash] of Object.entries(files!)) {
    if (!known.includes(name))
      fail(
        `files lists ${JSON.stringify(name)}, which is not a file of the bundle (${known.filter(Boolean).join(', ')})`,
      );
    if (typeof hash !== 'string') fail(`files[${JSON.stringify(name)}] must be a sha256 string`);
  }
  return value as Manifest;
}

function checkWasmTarget(value: unknown, fail: (what: string) => never): void {
  const wasm = value as { file?: unknown; exports?: Record<string, unknown>; simd?: unknown } | undefined;
  if (typeof wasm?.file !== 'string' || typeof wasm.exports !== 'object' || wasm.exports === null)
    fail('wasm.file and wasm.exports must be present');
  if (!WASM_NAME.test(wasm!.file as string))
    fail(`wasm.file "${String(wasm!.file)}" must be a plain .wasm file name`);
  // the contract fixes the names: a manifest naming init() as the run export would run init()
  for (const [key, name] of Object.entries(WASM_EXPORTS))
    if (wasm!.exports![key] !== name)
      fail(
        `wasm.exports.${key} must be "${name}" (the bundle contract), got ${JSON.stringify(wasm!.exports![key])}`,
      );
  if (Object.keys(wasm!.exports!).length !== 3) fail(`wasm.exports must name only memory, init and run`);
  if (typeof wasm!.simd !== 'boolean') fail('wasm.simd must be true or false');
  const relaxed = (wasm as { relaxed?: unknown }).relaxed;
  if (relaxed !== undefined) {
    const file = (relaxed as { file?: unknown } | null)?.file;
    if (typeof file !== 'string' || !WASM_NAME.test(file) || file === wasm!.file)
      fail(`wasm.relaxed.file "${String(file)}" must be a plain .wasm file name other than wasm.file`);
  }
}

function checkWebGpuShape(value: unknown, dims: DimsBlock | undefined, fail: (what: string) => never): void {
  const webgpu = value as { file?: unknown; memoryBytes?: unknown; init?: unknown; run?: unknown } | null;
  if (typeof webgpu !== 'object' || webgpu === null) fail('webgpu must be an object');
  // the readers fetch only model.wgsl
  if (webgpu!.file !== WGSL_FILE)
    fail(`webgpu.file must be "${WGSL_FILE}", got ${JSON.stringify(webgpu!.file)}`);
  if (!isByteCount(webgpu!.memoryBytes)) fail('webgpu.memoryBytes must be a non-negative integer');
  if (!Array.isArray(webgpu!.init) || !Array.isArray(webgpu!.run))
    fail('webgpu.init and webgpu.run must be arrays');
  // a dispatch sized per run counts with symbols the runtime writes
  const symbols = new Set(dims?.symbols.map((x) => x.name));
  for (const d of webgpu!.run as Partial<WgslDispatch>[]) {
    const count = d?.invocations;
    if (count === undefined) continue;
    if (
      !isPolynomial(count, Number.isFinite) ||
      !count.terms.every((t) => t.symbols.every((x) => symbols.has(x)))
    )
      fail(
        `webgpu.run dispatch "${String(d.entry)}": invocations must be a polynomial in the dims block's symbols`,
      );
  }
}
/** Each index check names its node and op, an int32 or int64 input of the model, and its bounds. */
function checkIndexChecks(value: unknown, inputs: TensorSignature[], fail: (what: string) => never): void {
  const int32 = (n: unknown) => Number.isInteger(n) && Math.abs(n as number) < 2 ** 31;
  const bound = (b: Partial<IndexBound> | null) =>
    int32(b?.min) && int32(b!.max) && b!.min! <= b!.max! && typeof b!.what === 'string';
  if (!Array.isArray(value)) fail('indexChecks must be an array');
  (value as Partial<IndexCheck>[]).forEach((c, i) => {
    const dtype = inputs.find((sig) => sig.name === c?.input)?.dtype;
    if (
      typeof c?.node !== 'string' ||
      typeof c.op !== 'string' ||
      (dtype !== 'int64' && dtype !== 'int32') ||
      !Array.isArray(c.bounds) ||
      c.bounds.length === 0 ||
      !c.bounds.every(bound)
    )
      fail(
        `indexChecks[${i}] must name a node, an op, an int32 or int64 input of the model and bounds (min ≤ max, what)`,
      );
  });
}

function checkTokenizerShape(value: unknown, fail: (what: string) => never): void {
  const t = value as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null) fail('tokenizer must be an object');
  // the readers fetch only tokenizer.json
  if (t!.file !== TOKENIZER_FILE)
    fail(`tokenizer.file must be "${TOKENIZER_FILE}", got ${JSON.stringify(t!.file)}`);
  if (t!.kind !== 'huggingface-tokenizer')
    fail(`tokenizer.kind must be "huggingface-tokenizer", got ${JSON.stringify(t!.kind)}`);
  const inputs = t!.inputs as Record<string, unknown> | null;
  if (typeof inputs !== 'object' || inputs === null || typeof inputs.ids !== 'string')
    fail('tokenizer.inputs.ids must name the model input of the token ids');
  if (!isByteCount(t!.vocabSize) || !isByteCount(t!.sequenceLength))
    fail('tokenizer.vocabSize and tokenizer.sequenceLength must be non-negative integers');
}

function checkSignature(sig: unknown, where: string, fail: (what: string) => never): void {
  const s = sig as Partial<TensorSignature> | null;
  if (typeof s?.name !== 'string') fail(`${where}.name must be a string`);
  if (typeof s!.dtype !== 'string' || !isNumericDType(s!.dtype))
    fail(`${where} ("${s!.name}") has dtype ${String(s!.dtype)}, which the runtime cannot hold in memory`);
  if (!Array.isArray(s!.shape) || !s!.shape.every((d) => isByteCount(d) || isSymbolicDim(d)))
    fail(
      `${where} ("${s!.name}") shape must be a list of non-negative integers and { name, min, max } bounds`,
    );
  if (!isByteCount(s!.offset) || !isByteCount(s!.byteLength))
    fail(`${where} ("${s!.name}") offset and byteLength must be non-negative integers`);
}

function isSymbolicDim(d: unknown): boolean {
  const s = d as Partial<SymbolicDim> | null;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string') return false;
  if (!isByteCount(s.min) || !isByteCount(s.max) || s.min > s.max) return false;
  if (s.value === undefined) return s.quotients === undefined && s.step === undefined;
  if (s.step !== undefined && !isSteppedValue(s.value, s.step)) return false;
  return (
    isPolynomial(s.value) &&
    (s.quotients === undefined || (Array.isArray(s.quotients) && s.quotients.every(isQuotient)))
  );
}

/** A stepped dim's value: step·s, one symbol. */
function isSteppedValue(value: unknown, step: unknown): boolean {
  const p = value as Partial<Polynomial> | null;
  const t = Array.isArray(p?.terms) && p.terms.length === 1 ? p.terms[0] : undefined;
  return (
    Number.isSafeInteger(step) &&
    (step as number) >= 1 &&
    p?.c === 0 &&
    t?.coef === step &&
    Array.isArray(t?.symbols) &&
    t.symbols.length === 1
  );
}

function isQuotient(q: unknown): q is Quotient {
  const x = q as Partial<Quotient> | null;
  return typeof x?.name === 'string' && isPolynomial(x.of) && Number.isSafeInteger(x.by) && x.by! >= 1;
}

/** The shape symbols a dim's value reads (its quotients' names excluded, what they read included). */
function symbolsRead(d: SymbolicDim): string[] {
  const own = new Set((d.quotients ?? []).map((q) => q.name));
  const read = [d.value!, ...(d.quotients ?? []).map((q) => q.of)].flatMap((p) =>
    p.terms.flatMap((t) => t.symbols),
  );
  return read.filter((x) => !own.has(x));
}

/** A Polynomial whose constant and coefficients pass `isCoefficient` (integers in a dim's value). */
function isPolynomial(
  value: unknown,
  isCoefficient: (x: unknown) => boolean = Number.isSafeInteger,
): value is Polynomial {
  const v = value as Partial<Polynomial> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    isCoefficient(v.c) &&
    Array.isArray(v.terms) &&
    v.terms.every(
      (t) =>
        isCoefficient(t?.coef) && Array.isArray(t.symbols) && t.symbols.every((x) => typeof x === 'string'),
    )
  );
}

/**
 * Every symbol a shape names is one of the dims block, and each of those gets a value: an input's own dim
 * (no `value`; or a stepped dim's value, size / step), an input's element (`fed`) or a kernel's store (`computedBy`).
 */
function checkDimsBlock(m: Record<string, unknown>, fail: (what: string) => never): void {
  const dims = m.dims as Partial<DimsBlock> | undefined;
  const signatures = [...(m.inputs as TensorSignature[]), ...(m.outputs as TensorSignature[])];
  const named = signatures.flatMap((sig) =>
    sig.shape.flatMap((d) => (typeof d === 'number' ? [] : d.value ? symbolsRead(d) : [d.name])),
  );
  if (dims === undefined) {
    if (named.length > 0) fail(`shapes name symbols (${named[0]}) but the manifest has no dims block`);
    return;
  }
  if (!isByteCount(dims.offset) || !Array.isArray(dims.symbols))
    fail('dims must have a byte offset and a list of symbols');
  const symbols = new Set(dims.symbols!.map((x) => x?.name));
  for (const name of named) if (!symbols.has(name)) fail(`shape symbol "${name}" is not in the dims block`);
  const given = new Set(
    (m.inputs as TensorSignature[]).flatMap((sig) =>
      sig.shape.flatMap((d) =>
        typeof d !== 'object'
          ? []
          : !d.value
            ? [d.name]
            : d.step !== undefined
              ? d.value.terms[0].symbols
              : [],
      ),
    ),
  );
  const intInput = (name: string) =>
    (m.inputs as TensorSignature[]).some((i) => i.name === name && ['int64', 'int32'].includes(i.dtype));
  for (const s of dims.symbols!) {
    // a data symbol's value is computed by a kernel, or is an input's element (an integer input)
    if (s.computedBy !== undefined) {
      if (typeof s.computedBy !== 'string')
        fail(`dims block symbol "${s.name}": computedBy must be a string`);
      continue;
    }
    if (s.fed !== undefined) {
      const sig = (m.inputs as TensorSignature[]).find((i) => i.name === s.fed?.input);
      const scaled = s.fed.scaled !== undefined;
      if (scaled && !isByteCount(s.fed.scaled))
        fail(`dims block symbol "${s.name}": fed.scaled must be a non-negative integer`);
      if (s.fed.times !== undefined && !isByteCount(s.fed.times))
        fail(`dims block symbol "${s.name}": fed.times must be a non-negative integer`);
      if (
        s.fed.broadcast !== undefined &&
        !(Array.isArray(s.fed.broadcast) && s.fed.broadcast.every(isByteCount))
      )
        fail(`dims block symbol "${s.name}": fed.broadcast must be dims`);
      if (s.fed.truncated !== undefined && typeof s.fed.truncated !== 'boolean')
        fail(`dims block symbol "${s.name}": fed.truncated must be a boolean`);
      const range = s.fed.range as Partial<FedRange> | undefined;
      const scalar = (v: unknown) =>
        (typeof v === 'string' && (m.inputs as TensorSignature[]).some((i) => i.name === v)) ||
        (typeof v === 'number' && Number.isFinite(v));
      if (range !== undefined && !(scalar(range.start) && scalar(range.limit) && scalar(range.delta)))
        fail(`dims block symbol "${s.name}": fed.range must have start, limit and delta (inputs or values)`);
      const frames = s.fed.frames as Partial<FedFrames> | undefined;
      if (frames !== undefined && !(isByteCount(frames.signal) && scalar(frames.length)))
        fail(
          `dims block symbol "${s.name}": fed.frames must have the signal's length and a frame length (an input or a value)`,
        );
      const float = scaled || s.fed.truncated === true || range !== undefined;
      if (!sig || !(intInput(s.fed.input) || (float && sig.dtype === 'float32')))
        fail(
          `dims block symbol "${s.name}" is fed by "${String(s.fed.input)}", which is no int64 or int32${float ? ' or float32' : ''} input`,
        );
      const axes = s.fed.axes as Partial<{ op: string; from: number[]; keepdims: boolean }> | undefined;
      if (
        axes !== undefined &&
        (!['unsqueeze', 'squeeze', 'reduce'].includes(axes.op!) ||
          !Array.isArray(axes.from) ||
          !axes.from.every(isByteCount) ||
          !(axes.keepdims === undefined || typeof axes.keepdims === 'boolean'))
      )
        fail(
          `dims block symbol "${s.name}": fed.axes must have an op (unsqueeze, squeeze or reduce), dims (from) and an optional keepdims`,
        );
      const slice = s.fed.slice as Partial<FedSlice> | undefined;
      const values = (v: unknown) =>
        (typeof v === 'string' && intInput(v)) || (Array.isArray(v) && v.every(Number.isSafeInteger));
      if (
        slice !== undefined &&
        (!Array.isArray(slice.from) ||
          !slice.from.every(isByteCount) ||
          !values(slice.starts) ||
          !values(slice.ends) ||
          (slice.axes !== undefined && !values(slice.axes)) ||
          (slice.steps !== undefined && !values(slice.steps)) ||
          !['count', 'first', 'forward', 'backward'].includes(slice.part!))
      )
        fail(
          `dims block symbol "${s.name}": fed.slice must have dims (from), starts, ends, optional axes and steps (integer inputs or values) and a part`,
        );
      // element `index` of the input, or with axes, dim `index` of the dims they give, or with slice, axis `index`
      const elements = sig!.byteLength / (sig!.dtype === 'int64' ? 8 : 4); // float32 alike
      const padded = s.fed.padded as Partial<{ from: number[]; part: string }> | undefined;
      if (
        padded !== undefined &&
        (!Array.isArray(padded.from) ||
          !padded.from.every(isByteCount) ||
          !['size', 'before', 'cropped'].includes(padded.part!) ||
          elements !== 2 * padded.from.length)
      )
        fail(
          `dims block symbol "${s.name}": fed.padded must have dims (from), twice as many pads and a part`,
        );
      const count = padded
        ? padded.from!.length
        : slice
          ? slice.from!.length
          : s.fed.broadcast
            ? Math.max(elements, s.fed.broadcast.length)
            : !axes
              ? elements
              : axes.from!.length +
                (axes.op === 'unsqueeze' ? elements : axes.op === 'reduce' && axes.keepdims ? 0 : -elements);
      if (!Number.isSafeInteger(s.fed.index) || s.fed.index < 0 || s.fed.index >= count)
        fail(
          `dims block symbol "${s.name}" is fed by ${axes || slice || s.fed.broadcast ? 'dim' : 'element'} ${String(s.fed.index)} of "${s.fed.input}", which it lacks`,
        );
      const reshape = s.fed.reshape as Partial<{ from: number[]; allowzero: boolean }> | undefined;
      if (
        reshape !== undefined &&
        (!Array.isArray(reshape.from) ||
          !reshape.from.every(isByteCount) ||
          typeof reshape.allowzero !== 'boolean')
      )
        fail(`dims block symbol "${s.name}": fed.reshape must have dims (from) and allowzero`);
      if (s.fed.sum !== undefined && !isByteCount(s.fed.sum))
        fail(`dims block symbol "${s.name}": fed.sum must be a non-negative integer`);
      continue;
    }
    if (!given.has(s.name))
      fail(`dims block symbol "${s.name}" is no input's dim, so no run could give it a value`);
  }
}

function checkWeightEntry(entry: unknown, where: string, fail: (what: string) => never): void {
  const w = entry as Partial<WeightEntry> | null;
  if (typeof w?.name !== 'string') fail(`${where}.name must be a string`);
  if (typeof w!.dtype !== 'string') fail(`${where} ("${w!.name}") dtype must be a string`);
  if (!Array.isArray(w!.dims) || !w!.dims.every(isByteCount))
    fail(`${where} ("${w!.name}") dims must be a list of non-negative integers`);
  if (!isByteCount(w!.offset) || !isByteCount(w!.byteLength))
    fail(`${where} ("${w!.name}") offset and byteLength must be non-negative integers`);
  const quant = w!.quant as Partial<WeightQuant> | null | undefined;
  if (quant !== undefined && (typeof quant !== 'object' || quant === null || typeof quant.dtype !== 'string'))
    fail(`${where} ("${w!.name}") quant must be an object with a dtype`);
  const at = quant?.scalesAt as Partial<WeightQuant['scalesAt']> | null | undefined;
  if (at !== undefined && (!isByteCount(at?.offset) || !isByteCount(at!.length)))
    fail(
      `${where} ("${w!.name}") quant.scalesAt must be an object with non-negative integer offset and length`,
    );
}

function isByteCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

/**
 * Every file the manifest lists and the caller holds, against its sha256. Each file whose hash differs is
 * named, with both hashes: the file changed, or its entry in manifest.json did.
 */
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
  if (files.tokenizer !== undefined && !manifest.tokenizer)
    throw new Error('a tokenizer was passed in but the bundle manifest lists none (tokenizer)');
  // a text model is served from its tokenizer: a bundle without it would serve nothing
  if (manifest.tokenizer && files.tokenizer === undefined)
    throw new Error(
      `the bundle manifest lists ${TOKENIZER_FILE} but it was not passed in (tokenizer: the ${TOKENIZER_FILE} text)`,
    );
  if (files.tokenizer !== undefined) held.push([TOKENIZER_FILE, files.tokenizer]);
  const differing: { name: string; actual: string; listed: string }[] = [];
  for (const [name, bytes] of held) {
    const listed = manifest.files[name];
    if (typeof listed !== 'string')
      throw new Error(`bundle manifest lists no sha256 for ${name}: the bundle is incomplete`);
    if (!SHA256.test(listed.toLowerCase()))
      throw new Error(
        `bundle ${MANIFEST_FILE} lists ${JSON.stringify(listed.slice(0, 80))} as the sha256 of ${name}, which is not a sha256: ${MANIFEST_FILE} is corrupt or was modified`,
      );
    if (bytes === undefined) continue;
    const actual = await sha256Hex(bytes);
    if (actual !== listed.toLowerCase()) differing.push({ name, actual, listed: listed.toLowerCase() });
  }
  if (differing.length === 0) return;
  const detail = differing
    .map((d) => `${d.name} has sha256 ${d.actual}, ${MANIFEST_FILE} lists ${d.listed}`)
    .join('; ');
  throw new Error(
    differing.length === 1
      ? `bundle file ${differing[0].name} failed its sha256 check: the bundle is corrupt or was modified (${detail})`
      : `bundle files failed their sha256 checks: the bundle is corrupt or was modified (${detail})`,
  );
}

/**
 * A wasm module against the contract: it exports the memory and the two entry points the manifest names,
 * its memory can grow to the plan's size, and it carries the digest of this very manifest (bundles
 * compiled before the digest existed carry none, and are held to the other checks alone).
 */
async function checkModule(
  manifest: Manifest,
  file: string,
  wasm: Uint8Array | WebAssembly.Module,
  unreadable: 'refuse' | 'skip if unreadable' = 'refuse',
): Promise<void> {
  let facts: ModuleFacts;
  try {
    facts = moduleFacts(wasm, file);
  } catch (err) {
    if (unreadable === 'skip if unreadable') return;
    throw err;
  }
  const kinds = new Map(facts.exports.map((e) => [e.name, e.kind]));
  const names = manifest.wasm.exports;
  const expected = [
    [names.memory, 'memory'],
    [names.init, 'function'],
    [names.run, 'function'],
  ];
  for (const [name, kind] of expected)
    if (kinds.get(name) !== kind)
      throw new Error(
        `bundle file ${file} does not export a ${kind} "${name}"${kinds.has(name) ? ` (its "${name}" is a ${kinds.get(name)})` : ''}: it is not the module this manifest describes`,
      );
  const maximum = facts.memoryPages && (facts.memoryPages.maximum ?? Infinity) * WASM_PAGE;
  if (maximum !== undefined && maximum < manifest.memory.totalBytes)
    throw new Error(
      `bundle memory plan: totalBytes ${manifest.memory.totalBytes} is more than the ${maximum} bytes ${file}'s memory can grow to`,
    );
  const [digest, ...more] = facts.customSections(MANIFEST_DIGEST_SECTION);
  if (digest === undefined) return;
  if (more.length > 0 || new TextDecoder().decode(digest) !== (await manifestDigest(manifest)))
    throw new Error(
      `bundle ${MANIFEST_FILE} does not match ${file}: the manifest was modified after the bundle was compiled (${file} carries the digest of the manifest it was compiled with)`,
    );
}
