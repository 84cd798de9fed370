/**
 * The WGSL target's memory over several storage bindings. The Program's linear memory is cut into
 * contiguous byte ranges ("segments") of at most `bindingBytes` each (WebGPU's default and guaranteed
 * maxStorageBufferBindingSize, 128 MiB), cutting between buffers where it can and at the given cuts (the
 * compiler's: where the weights begin and end, so that they are bound read-only). Segment i is
 * `@group(0) @binding(i) var<storage, …> mem<i>: array<u32>` and one GPU buffer at run time; an entry
 * point binds only the segments it touches, read-only where no entry point stores into them. A buffer
 * larger than one segment spans several: its words are read and written through a helper that picks the
 * binding by address (word-sized dtypes only).
 */
import type { Program } from '../../kernels/ir.js';
import { dtypeBytes } from '../../ir/dtype.js';

/** One storage binding: a contiguous byte range of linear memory (the bundle's WgslSegment). */
export interface Segment {
  /** byte offset in linear memory (a multiple of 16) */
  offset: number;
  /** a multiple of 4 */
  bytes: number;
  /** 'read' (a read-only-storage binding) when no entry point writes it, else 'read_write' */
  access: 'read' | 'read_write';
}

/** WebGPU's default maxStorageBufferBindingSize, which every adapter allows without asking. */
const DEFAULT_BINDING_BYTES = 134217728;

export const segmentVar = (i: number) => `mem${i}`;

export class MemoryBindings {
  /** segment start offsets in bytes, ascending; segment i ends where i + 1 starts (the last at `total`) */
  readonly starts: number[];
  readonly total: number;
  private readonly written = new Set<number>();
  /** span helpers (a buffer over several segments) the entry points call, by name */
  private readonly spans = new Map<string, string>();

  /** `cuts`: byte offsets (multiples of 16) where a segment starts, unless a buffer crosses one */
  constructor(program: Program, bindingBytes = DEFAULT_BINDING_BYTES, cuts: readonly number[] = []) {
    if (bindingBytes <= 0 || bindingBytes % 16 !== 0)
      throw new Error(`binding size ${bindingBytes} must be a positive multiple of 16`);
    this.total = Math.max(4, Math.ceil(program.memoryBytes / 4) * 4);
    const ranges = program.buffers.map((b) => ({
      offset: b.offset,
      end: b.offset + b.length * dtypeBytes(b.dtype),
    }));
    if (program.dims)
      ranges.push({
        offset: program.dims.offset,
        end: program.dims.offset + 4 * program.dims.symbols.length,
      });
    ranges.sort((a, b) => a.offset - b.offset);
    const starts = [0];
    let start = 0;
    // reach: the end of every range so far; a cut below it would split a buffer (arena buffers overlap)
    let reach = 0;
    const wanted = cuts.filter((c) => c > 0 && c < this.total && c % 16 === 0).sort((a, b) => a - b);
    let next = 0;
    const cutBefore = (offset: number) => {
      for (; next < wanted.length && wanted[next] <= offset; next++)
        if (wanted[next] > start && wanted[next] >= reach) starts.push((start = wanted[next]));
    };
    for (const { offset, end } of ranges) {
      cutBefore(offset);
      if (end - start > bindingBytes && offset >= reach && offset > start) starts.push((start = offset));
      while (end - start > bindingBytes) starts.push((start += bindingBytes));
      reach = Math.max(reach, end);
    }
    cutBefore(this.total);
    while (this.total - start > bindingBytes) starts.push((start += bindingBytes));
    this.starts = starts;
  }

  /** Index of the segment holding byte `offset`. */
  segmentAt(offset: number): number {
    let i = this.starts.length - 1;
    while (i > 0 && this.starts[i] > offset) i--;
    return i;
  }

  /** The segments bytes [offset, offset + bytes) lie in: first and last index. */
  spanOf(offset: number, bytes: number): [number, number] {
    return [this.segmentAt(offset), this.segmentAt(offset + Math.max(bytes, 1) - 1)];
  }

  markWritten(segment: number): void {
    this.written.add(segment);
  }

  /**
   * Name of the helper that loads (`ld`) or stores (`st`) the u32 at absolute word `w` of segments
   * first..last; registers its text for the module.
   */
  spanHelper(kind: 'ld' | 'st', first: number, last: number): string {
    const name = `${kind}_span_${first}_${last}`;
    if (!this.spans.has(name)) {
      const arms: string[] = [];
      for (let i = first; i <= last; i++) {
        const word = `w - ${this.starts[i] / 4}i`;
        const access = `${segmentVar(i)}[${word}]`;
        const body = kind === 'ld' ? `return ${access};` : `${access} = v; return;`;
        arms.push(i < last ? `  if (w < ${this.end(i) / 4}i) { ${body} }` : `  ${body}`);
      }
      const head = kind === 'ld' ? `fn ${name}(w: i32) -> u32 {` : `fn ${name}(w: i32, v: u32) {`;
      this.spans.set(name, [head, ...arms, '}'].join('\n'));
    }
    return name;
  }

  private end(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1] : this.total;
  }

  segments(): Segment[] {
    return this.starts.map((offset, i) => ({
      offset,
      bytes: this.end(i) - offset,
      access: this.written.has(i) ? 'read_write' : 'read',
    }));
  }

  /** The module's binding declarations and span helpers (after every entry point is rendered). */
  declarations(): string {
    const decls = this.segments().map(
      (s, i) => `@group(0) @binding(${i}) var<storage, ${s.access}> ${segmentVar(i)}: array<u32>;`,
    );
    return [...decls, ...this.spans.values()].join('\n');
  }
}
