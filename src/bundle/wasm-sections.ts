/**
 * What bundle verification reads from a wasm module without running it: its exports, its memory limits
 * and its custom sections. From the bytes when it has them (a few section headers, no compile); from the
 * JS API when the module arrives compiled (a Worker's), where memory limits are out of reach.
 */

export interface ModuleFacts {
  exports: { name: string; kind: string }[];
  /** the defined memory's limits in 64 KiB pages, when read from bytes */
  memoryPages?: { initial: number; maximum?: number };
  /** the payloads of the custom sections with this name */
  customSections(name: string): Uint8Array[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const CUSTOM_SECTION = 0;
const MEMORY_SECTION = 5;
const EXPORT_SECTION = 7;
const EXPORT_KINDS = ['function', 'table', 'memory', 'global', 'tag'];

export function moduleFacts(wasm: Uint8Array | WebAssembly.Module, file: string): ModuleFacts {
  if (wasm instanceof WebAssembly.Module)
    return {
      exports: WebAssembly.Module.exports(wasm),
      customSections: (name) => WebAssembly.Module.customSections(wasm, name).map((b) => new Uint8Array(b)),
    };
  try {
    return factsFromBytes(wasm);
  } catch (err) {
    throw new Error(`bundle file ${file} is not a WebAssembly module: ${(err as Error).message}`);
  }
}

/** One section of a module: its id and the bounds of its body. */
interface Section {
  id: number;
  /** where its id byte is */
  header: number;
  start: number;
  end: number;
}

/** The top-level sections of `bytes`, each bounds-checked; custom sections may sit anywhere. */
function sections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error('no wasm magic number');
  const found: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = readU32(bytes, at + 1);
    const end = start + size;
    if (end > bytes.length) throw new Error(`section ${id} at byte ${at} runs past the end`);
    found.push({ id, header: at, start, end });
    at = end;
  }
  return found;
}

function factsFromBytes(bytes: Uint8Array): ModuleFacts {
  const exports: ModuleFacts['exports'] = [];
  const custom: { name: string; payload: Uint8Array }[] = [];
  let memoryPages: ModuleFacts['memoryPages'];
  for (const { id, start, end } of sections(bytes)) {
    const body = bytes.subarray(0, end);
    if (id === CUSTOM_SECTION) {
      const [name, payloadAt] = readName(body, start);
      custom.push({ name, payload: bytes.subarray(payloadAt, end) });
    } else if (id === EXPORT_SECTION) {
      let [count, at] = readU32(body, start);
      for (; count > 0; count--) {
        const [name, kindAt] = readName(body, at);
        if (kindAt >= end) throw new Error('the export section is cut short');
        exports.push({ name, kind: EXPORT_KINDS[body[kindAt]] ?? `kind ${body[kindAt]}` });
        at = readU32(body, kindAt + 1)[1];
      }
    } else if (id === MEMORY_SECTION) {
      const [count, limitsAt] = readU32(body, start);
      if (count === 0) continue;
      const flags = body[limitsAt];
      const [initial, maximumAt] = readU32(body, limitsAt + 1);
      memoryPages = flags & 1 ? { initial, maximum: readU32(body, maximumAt)[0] } : { initial };
    }
  }
  return {
    exports,
    memoryPages,
    customSections: (name) => custom.filter((c) => c.name === name).map((c) => c.payload),
  };
}

/** An unsigned LEB128 u32 at `at`: its value and the index after it. */
function readU32(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) throw new Error('a number runs past the end');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  throw new Error('a number is longer than 5 bytes');
}

function readName(bytes: Uint8Array, at: number): [string, number] {
  const [length, start] = readU32(bytes, at);
  if (start + length > bytes.length) throw new Error('a name runs past the end');
  return [new TextDecoder().decode(bytes.subarray(start, start + length)), start + length];
}

/** `bytes` with a custom section `name` holding `payload` appended (after removing any earlier ones of that name). */
export function withCustomSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of sections(bytes)) {
    const header = bytes.subarray(0, s.end);
    if (s.id === CUSTOM_SECTION && readName(header, s.start)[0] === name) continue;
    kept.push(bytes.subarray(s.header, s.end));
  }
  const nameBytes = new TextEncoder().encode(name);
  const body = [...u32(nameBytes.length), ...nameBytes, ...payload];
  kept.push(Uint8Array.of(CUSTOM_SECTION, ...u32(body.length), ...body));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of kept) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}
