/**
 * The places a manifest gives — weights inside weights.bin, the memory plan's regions, every input and
 * output, the WebGPU storage buffer — checked for bounds, alignment, overlap and size against dtype×shape.
 * The runtime writes and reads memory at exactly these places, so one wrong offset would return the
 * weights as an output or let an input overwrite them.
 */
import type { Manifest, TensorSignature, WebGpuSchedule, WeightEntry } from './manifest.js';
import { WEIGHTS_FILE, WEIGHT_ALIGNMENT } from './files.js';
import { elementBytes, elementCount, isNumericDType } from './elements.js';
import { formatShape, upperBounds } from './shape-dims.js';

const WASM_PAGE = 65536;
/** every buffer the code generators place starts on 16 bytes (one SIMD vector); the compiler uses 64 */
export const BUFFER_ALIGNMENT = 16;
/** WebGPU's default maxComputeWorkgroupsPerDimension */
const MAX_WORKGROUPS = 65535;
const WGSL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Region {
  what: string;
  start: number;
  end: number;
}

export function checkLayout(manifest: Manifest, weightsFileBytes: number): void {
  checkWeights(manifest, weightsFileBytes);
  checkMemoryPlan(manifest);
  if (manifest.webgpu) checkWebGpuSchedule(manifest, manifest.webgpu);
}

function checkWeights(manifest: Manifest, weightsFileBytes: number): void {
  const { weightsBytes } = manifest.memory;
  if (weightsBytes !== weightsFileBytes)
    throw new Error(
      `bundle ${WEIGHTS_FILE} holds ${weightsFileBytes} bytes but the memory plan expects ${weightsBytes}`,
    );
  const names = new Set<string>();
  const placed: Region[] = [];
  for (const w of manifest.weights) {
    const storage = w.quant?.dtype ?? w.dtype;
    const where = `bundle weight "${w.name}"`;
    if (names.has(w.name)) throw new Error(`bundle manifest lists weight "${w.name}" twice`);
    names.add(w.name);
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
    placed.push(region(where.slice('bundle '.length), w.offset, w.byteLength));
    if (w.quant?.scalesAt) checkScalesAt(w, w.quant.scalesAt, weightsBytes);
  }
  checkDisjoint(placed, `bundle ${WEIGHTS_FILE}`);
}

/** A weight's per-axis scales: one float32 per slice along its axis, inside weights.bin. */
function checkScalesAt(w: WeightEntry, at: { offset: number; length: number }, weightsBytes: number): void {
  const where = `bundle weight "${w.name}": its scales`;
  const axis = w.quant!.axis;
  if (axis === undefined || w.dims[axis] !== at.length)
    throw new Error(
      `${where} are ${at.length} values but it has ${axis === undefined ? 'no axis' : `${w.dims[axis]} slices along axis ${axis}`}`,
    );
  if (at.offset % 4 !== 0)
    throw new Error(`${where} start at byte ${at.offset}, which is not 4-byte aligned`);
  if (at.offset + 4 * at.length > weightsBytes)
    throw new Error(
      `${where} (bytes ${at.offset}..${at.offset + 4 * at.length}) lie outside ${WEIGHTS_FILE}`,
    );
}

function checkMemoryPlan(manifest: Manifest): void {
  const mem = manifest.memory;
  if (mem.totalBytes === 0 || mem.totalBytes % WASM_PAGE !== 0)
    throw new Error(`bundle memory plan: totalBytes ${mem.totalBytes} is not a positive multiple of 64 KiB`);
  const io = region('the input/output region', mem.ioOffset, mem.ioBytes);
  const regions = [
    region('the weights', mem.weightsOffset, mem.weightsBytes),
    region('the persistent region', mem.persistentOffset, mem.persistentBytes),
    io,
    region('the arena', mem.arenaOffset, mem.arenaBytes),
    // the shape symbols' int32s, written before every run
    ...(manifest.dims
      ? [region('the dims block', manifest.dims.offset, 4 * manifest.dims.symbols.length)]
      : []),
  ];
  for (const r of regions) {
    checkAligned(r);
    checkInsideMemory(r, mem.totalBytes);
  }
  checkDisjoint(regions, 'bundle memory plan');
  // Inputs are written before every run and outputs read after it: each has its own bytes inside the
  // input/output region, or an input would overwrite the weights and an output return them.
  const tensors = [
    ...checkSignatures('input', manifest.inputs),
    ...checkSignatures('output', manifest.outputs),
  ];
  for (const t of tensors) {
    checkAligned(t);
    checkInsideMemory(t, mem.totalBytes);
    if (t.start < io.start || t.end > io.end)
      throw new Error(
        `bundle memory plan: ${t.what} (bytes ${t.start}..${t.end}) lies outside ${io.what} (bytes ${io.start}..${io.end})`,
      );
  }
  checkDisjoint(tensors, 'bundle memory plan');
}

function checkSignatures(kind: string, sigs: TensorSignature[]): Region[] {
  const seen = new Set<string>();
  return sigs.map((s) => {
    if (seen.has(s.name)) throw new Error(`bundle manifest lists ${kind} "${s.name}" twice`);
    seen.add(s.name);
    const expected =
      elementCount(upperBounds(s.shape)) * elementBytes(s.dtype as Exclude<typeof s.dtype, 'string'>);
    if (s.byteLength !== expected)
      throw new Error(
        `bundle ${kind} "${s.name}" is ${s.byteLength} bytes but ${s.dtype}${formatShape(s.shape)} needs ${expected}`,
      );
    return region(`${kind} "${s.name}"`, s.offset, s.byteLength);
  });
}

/**
 * The WebGPU storage bindings mirror linear memory: their segments follow each other from 0 to
 * memoryBytes, which holds every region the plan places, and each dispatch must name a WGSL entry point
 * with a workgroup count WebGPU accepts and the segments it binds.
 */
function checkWebGpuSchedule(manifest: Manifest, schedule: WebGpuSchedule): void {
  const mem = manifest.memory;
  const used = Math.max(
    mem.weightsOffset + mem.weightsBytes,
    mem.persistentOffset + mem.persistentBytes,
    mem.ioOffset + mem.ioBytes,
    mem.arenaOffset + mem.arenaBytes,
  );
  if (schedule.memoryBytes % 4 !== 0 || schedule.memoryBytes < used)
    throw new Error(
      `bundle webgpu schedule: memoryBytes ${schedule.memoryBytes} is not a multiple of 4 holding the memory plan's ${used} bytes`,
    );
  checkSegments(schedule);
  for (const phase of ['init', 'run'] as const)
    schedule[phase].forEach((d, i) => {
      const where = `bundle webgpu schedule: ${phase}[${i}]`;
      if (typeof d !== 'object' || d === null || typeof d.entry !== 'string' || !WGSL_NAME.test(d.entry))
        throw new Error(`${where} must name a WGSL entry point`);
      if (typeof d.kernel !== 'string') throw new Error(`${where} ("${d.entry}") must name its kernel`);
      if (d.f16Entry !== undefined && (typeof d.f16Entry !== 'string' || !WGSL_NAME.test(d.f16Entry)))
        throw new Error(`${where} ("${d.entry}") f16Entry must name a WGSL entry point`);
      const counts = d.workgroups as unknown;
      if (
        !Array.isArray(counts) ||
        counts.length !== 3 ||
        !counts.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_WORKGROUPS)
      )
        throw new Error(
          `${where} ("${d.entry}") workgroups must be 3 integers in 0..${MAX_WORKGROUPS}, got ${JSON.stringify(counts)}`,
        );
      const bindings = d.bindings as unknown;
      if (
        !Array.isArray(bindings) ||
        !bindings.every(
          (b, j) =>
            Number.isInteger(b) && b >= 0 && b < schedule.segments.length && (j === 0 || b > bindings[j - 1]),
        )
      )
        throw new Error(
          `${where} ("${d.entry}") bindings must be ascending segment indices below ${schedule.segments.length}, got ${JSON.stringify(bindings)}`,
        );
    });
}

/** Segment i starts where i − 1 ends (the first at 0, the last ending at memoryBytes), 16-byte aligned. */
function checkSegments(schedule: WebGpuSchedule): void {
  const segments = schedule.segments as unknown;
  if (!Array.isArray(segments) || segments.length === 0)
    throw new Error('bundle webgpu schedule: segments must be a non-empty array (one per storage binding)');
  let end = 0;
  schedule.segments.forEach((s, i) => {
    const where = `bundle webgpu schedule: segments[${i}]`;
    if (typeof s !== 'object' || s === null || s.offset !== end || s.offset % BUFFER_ALIGNMENT !== 0)
      throw new Error(`${where} must start at byte ${end}, where the one before ends (16-byte aligned)`);
    if (!Number.isInteger(s.bytes) || s.bytes <= 0 || s.bytes % 4 !== 0)
      throw new Error(`${where} bytes must be a positive multiple of 4, got ${JSON.stringify(s.bytes)}`);
    if (s.access !== 'read' && s.access !== 'read_write')
      throw new Error(`${where} access must be "read" or "read_write", got ${JSON.stringify(s.access)}`);
    end += s.bytes;
  });
  if (end !== schedule.memoryBytes)
    throw new Error(
      `bundle webgpu schedule: the segments end at byte ${end}, not at memoryBytes ${schedule.memoryBytes}`,
    );
}

/**
 * Each dispatch's entry point is a compute function of the WGSL module, before halfFrom; its f16 twin one
 * after it.
 */
export function checkWgslEntries(schedule: WebGpuSchedule, wgsl: string): void {
  const halfFrom = schedule.halfFrom ?? wgsl.length;
  if (!Number.isInteger(halfFrom) || halfFrom < 0 || halfFrom > wgsl.length)
    throw new Error(`bundle webgpu schedule: halfFrom ${halfFrom} is not a position in ${schedule.file}`);
  const entriesIn = (text: string) =>
    new Set([...text.matchAll(/@compute\b[^{;]*?\bfn\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1]));
  const [full, half] = [entriesIn(wgsl.slice(0, halfFrom)), entriesIn(wgsl.slice(halfFrom))];
  for (const d of [...schedule.init, ...schedule.run]) {
    if (!full.has(d.entry))
      throw new Error(`bundle webgpu schedule: ${schedule.file} has no compute entry point "${d.entry}"`);
    if (d.f16Entry !== undefined && !half.has(d.f16Entry))
      throw new Error(
        `bundle webgpu schedule: ${schedule.file} has no compute entry point "${d.f16Entry}" after halfFrom`,
      );
  }
}

function region(what: string, start: number, bytes: number): Region {
  return { what, start, end: start + bytes };
}

function checkAligned(r: Region): void {
  if (r.start % BUFFER_ALIGNMENT !== 0)
    throw new Error(
      `bundle memory plan: ${r.what} starts at byte ${r.start}, which is not ${BUFFER_ALIGNMENT}-byte aligned`,
    );
}

function checkInsideMemory(r: Region, totalBytes: number): void {
  if (r.end > totalBytes)
    throw new Error(
      `bundle memory plan: ${r.what} (bytes ${r.start}..${r.end}) exceeds memory of ${totalBytes} bytes`,
    );
}

/** No two non-empty regions share a byte. */
function checkDisjoint(regions: Region[], where: string): void {
  const sorted = regions.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].start < sorted[i - 1].end)
      throw new Error(
        `${where}: ${sorted[i - 1].what} (bytes ${sorted[i - 1].start}..${sorted[i - 1].end}) and ${sorted[i].what} (bytes ${sorted[i].start}..${sorted[i].end}) overlap`,
      );
}
