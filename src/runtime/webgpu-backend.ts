/**
 * The webgpu backend: one storage buffer per segment of the schedule, together mirroring the wasm
 * module's linear memory (weights at memory.weightsOffset, inputs and outputs at their signatures'
 * offsets), the bundle's WGSL module with one compute pipeline per entry point (its layout: the
 * segments it binds), and the manifest's dispatch schedule.
 */
import { dimsBlockWords, dimValue, polynomialValue } from '../bundle/shape-dims.js';

import type { LoadedBundleFiles } from '../bundle/files.js';
import type { Manifest, WebGpuSchedule, WgslDispatch, WgslSegment } from '../bundle/manifest.js';
import { ELEMENT_ARRAY, elementBytes, elementCount, type NumericDType } from '../bundle/elements.js';
import type { Tensor } from './types.js';
import type {
  GpuBufferLike,
  GpuDeviceLike,
  GpuHandle,
  GpuLike,
  GpuShaderModuleLike,
} from './webgpu-types.js';

// WebGPU's numeric flags (the GPUBufferUsage / GPUShaderStage / GPUMapMode globals may not exist here)
const MAP_READ = 0x01;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const STORAGE = 0x80;
const COMPUTE_STAGE = 0x4;
const MAP_MODE_READ = 0x1;

/** The limits every WebGPU device has without asking (the spec's defaults). */
const DEFAULT_LIMITS = {
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxStorageBuffersPerShaderStage: 8,
};

/** Invocations per workgroup of the WGSL generator's spread entry points (`@workgroup_size(64)`). */
const WORKGROUP_INVOCATIONS = 64;

const words = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** A step of the schedule, ready to encode. */
interface Step {
  pipeline: GpuHandle;
  bindGroup: GpuHandle;
  dispatch: WgslDispatch;
}

/** The part of bytes [offset, offset + size) of linear memory that lies in one segment. */
interface Piece {
  segment: number;
  /** offset within the segment's buffer */
  at: number;
  /** offset within the range */
  from: number;
  size: number;
}

function piecesOf(segments: WgslSegment[], offset: number, size: number): Piece[] {
  const pieces: Piece[] = [];
  segments.forEach((s, segment) => {
    const start = Math.max(offset, s.offset);
    const end = Math.min(offset + size, s.offset + s.bytes);
    if (start < end) pieces.push({ segment, at: start - s.offset, from: start - offset, size: end - start });
  });
  return pieces;
}

/** A size a kernel counts during the run: read back from its dims-block word after run step `to` - 1. */
interface CountedSize {
  to: number;
  symbol: string;
  word: Piece;
}

/**
 * The dims block's counted sizes (`computedBy`), each after the last run dispatch of the kernel that
 * counts it, in the order of the schedule.
 */
function countedSizes(manifest: Manifest, schedule: WebGpuSchedule): CountedSize[] {
  const block = manifest.dims;
  if (!block) return [];
  return block.symbols
    .flatMap((s, i) => {
      if (s.computedBy === undefined) return [];
      const last = schedule.run.map((d) => d.kernel).lastIndexOf(s.computedBy);
      if (last < 0)
        throw new Error(
          `model "${manifest.model.name}": no webgpu dispatch of kernel "${s.computedBy}", which counts "${s.name}"`,
        );
      const [word] = piecesOf(schedule.segments, block.offset + 4 * i, 4);
      return [{ to: last + 1, symbol: s.name, word }];
    })
    .sort((a, b) => a.to - b.to);
}

export class WebGpuInstance {
  private constructor(
    private readonly manifest: Manifest,
    private readonly device: GpuDeviceLike,
    /** one buffer per segment of the schedule */
    private readonly memory: GpuBufferLike[],
    private readonly runSteps: Step[],
    /** where each output lands in the staging buffer */
    private readonly staging: GpuBufferLike,
    private readonly stagingOffsets: number[],
    /** the run steps after which a counted size is read back (ascending), and where its word lies */
    private readonly countedAt: CountedSize[],
    /** where a counted size's word is read back */
    private readonly counted: GpuBufferLike,
  ) {}

  /** Gets a device able to hold the model's memory, compiles the WGSL, writes the weights and runs `init`. */
  static async create(files: LoadedBundleFiles, gpu: GpuLike): Promise<WebGpuInstance> {
    const { manifest } = files;
    const where = `model "${manifest.model.name}"`;
    const schedule = manifest.webgpu;
    if (!schedule || files.wgsl === undefined)
      throw new Error(
        `${where}: the bundle has no webgpu schedule and WGSL; compile it with --targets wasm,webgpu`,
      );
    const { device, half } = await openDevice(gpu, manifest, schedule, where);
    try {
      const code = moduleCode(files.wgsl, schedule, half);
      const module = device.createShaderModule({ code, label: schedule.file });
      await checkCompiled(module, code, schedule, where);
      const memory: GpuBufferLike[] = [];
      for (const [i, segment] of schedule.segments.entries())
        memory.push(
          await withErrors(
            device,
            `${where}: allocating ${segment.bytes} bytes of GPU memory (binding ${i})`,
            () =>
              device.createBuffer({
                size: segment.bytes,
                usage: STORAGE | COPY_SRC | COPY_DST,
                label: `memory ${i}`,
              }),
          ),
        );
      const bound = bindingsOf(device, schedule.segments, memory);
      const pipelines = await createPipelines(device, module, bound, schedule, half, where);
      const steps = (list: WgslDispatch[]) =>
        list.map((d) => ({
          pipeline: pipelines.get(entryOf(d, half))!,
          bindGroup: bound(d.bindings).group,
          dispatch: d,
        }));

      const stagingOffsets: number[] = [];
      let stagingBytes = 0;
      for (const sig of manifest.outputs) {
        stagingOffsets.push(stagingBytes);
        stagingBytes += words(sig.byteLength);
      }
      const staging = device.createBuffer({
        size: Math.max(4, stagingBytes),
        usage: MAP_READ | COPY_DST,
        label: 'outputs',
      });
      const counted = device.createBuffer({ size: 4, usage: MAP_READ | COPY_DST, label: 'counted size' });
      const instance = new WebGpuInstance(
        manifest,
        device,
        memory,
        steps(schedule.run),
        staging,
        stagingOffsets,
        countedSizes(manifest, schedule),
        counted,
      );
      instance.write(manifest.memory.weightsOffset, padded(files.weights));
      await instance.submit(steps(schedule.init), 'init', () => {});
      return instance;
    } catch (err) {
      device.destroy();
      throw err;
    }
  }

  /** Writes `bytes` (whole words) at byte `offset` of linear memory, over the segments it crosses. */
  private write(offset: number, bytes: Uint8Array<ArrayBuffer>): void {
    const segments = this.manifest.webgpu!.segments;
    for (const p of piecesOf(segments, offset, bytes.byteLength))
      this.device.queue.writeBuffer(this.memory[p.segment], p.at, bytes.subarray(p.from, p.from + p.size));
  }

  /**
   * One inference: the inputs' bytes in the order of manifest.inputs and the shape symbols' values,
   * validated. The symbols go into the dims block, where the kernels read them. A dispatch whose count of
   * invocations depends on them is sized for their values; the others (tiled gemms, counts with a min or
   * max) keep the size of the bounds, their invocations past a run-time extent returning at once.
   * A size a kernel counts during the run (the dims block's `computedBy`) ends a submission: its word is
   * read back (one readback per counted size) and the dispatches after it are sized by it.
   * Each output is read back at its real shape (the kernels write it packed at that shape).
   */
  async run(
    inputBytes: Uint8Array[],
    symbols: Readonly<Record<string, number>> = {},
  ): Promise<Record<string, Tensor>> {
    const { inputs, outputs, dims: dimsBlock } = this.manifest;
    const where = `model "${this.manifest.model.name}"`;
    const dimsWords = dimsBlock && dimsBlockWords(where, dimsBlock, symbols);
    if (dimsWords) this.write(dimsBlock.offset, new Uint8Array(dimsWords.buffer));
    inputs.forEach((sig, i) => this.write(sig.offset, padded(inputBytes[i])));
    const sizes = { ...symbols };
    let from = 0;
    for (const { to, symbol, word } of this.countedAt) {
      await this.submit(this.sizedSteps(from, to, sizes), 'run', (encoder) =>
        encoder.copyBufferToBuffer(this.memory[word.segment], word.at, this.counted, 0, 4),
      );
      await this.counted.mapAsync(MAP_MODE_READ);
      try {
        sizes[symbol] = new Int32Array(this.counted.getMappedRange(), 0, 1)[0];
      } finally {
        this.counted.unmap();
      }
      from = to;
    }
    const shapes = outputs.map((sig) => sig.shape.map((d) => dimValue(d, sizes)));
    const byteLengths = outputs.map(
      (sig, i) => elementCount(shapes[i]) * elementBytes(sig.dtype as NumericDType),
    );
    const segments = this.manifest.webgpu!.segments;
    await this.submit(this.sizedSteps(from, this.runSteps.length, sizes), 'run', (encoder) =>
      outputs.forEach((sig, i) => {
        for (const p of piecesOf(segments, sig.offset, words(byteLengths[i])))
          encoder.copyBufferToBuffer(
            this.memory[p.segment],
            p.at,
            this.staging,
            this.stagingOffsets[i] + p.from,
            p.size,
          );
      }),
    );
    await this.staging.mapAsync(MAP_MODE_READ);
    try {
      const mapped = this.staging.getMappedRange();
      const result: Record<string, Tensor> = {};
      outputs.forEach((sig, i) => {
        const dtype = sig.dtype as NumericDType;
        // a copy the caller owns: the mapped range is gone after unmap()
        const bytes = new Uint8Array(mapped, this.stagingOffsets[i], byteLengths[i]).slice();
        result[sig.name] = {
          dtype,
          dims: shapes[i],
          data: new ELEMENT_ARRAY[dtype](bytes.buffer, 0, elementCount(shapes[i])),
        };
      });
      return result;
    } finally {
      this.staging.unmap();
    }
  }

  /**
   * Run steps [from, to) with each dispatch whose count of invocations depends on shape symbols sized for
   * their values (by the manifest's upper bound of the count, never past the bounds' size). A dispatch
   * over a 2-D grid (past 65535 workgroups at the bounds) keeps its bound size.
   */
  private sizedSteps(from: number, to: number, symbols: Readonly<Record<string, number>>): Step[] {
    return this.runSteps.slice(from, to).map((step) => {
      const { invocations, workgroups } = step.dispatch;
      if (!this.manifest.dims || !invocations || workgroups[1] !== 1) return step;
      const count = Math.max(0, polynomialValue(invocations, symbols));
      const groups = Math.min(workgroups[0], Math.ceil(count / WORKGROUP_INVOCATIONS));
      return { ...step, dispatch: { ...step.dispatch, workgroups: [groups, 1, 1] } };
    });
  }

  /** Encodes `steps` in one compute pass (each dispatch sees the previous one's writes), then `after`. */
  private async submit(
    steps: Step[],
    phase: string,
    after: (encoder: ReturnType<GpuDeviceLike['createCommandEncoder']>) => void,
  ): Promise<void> {
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const { pipeline, bindGroup, dispatch } of steps) {
      // a count sized to run-time dims may be 0: nothing to run (Dawn warns at such a dispatch)
      if (dispatch.workgroups.includes(0)) continue;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...dispatch.workgroups);
    }
    pass.end();
    after(encoder);
    await withErrors(this.device, `model "${this.manifest.model.name}": ${phase}`, () =>
      this.device.queue.submit([encoder.finish()]),
    );
  }

  dispose(): void {
    for (const buffer of this.memory) buffer.destroy();
    this.staging.destroy();
    this.counted.destroy();
    this.device.destroy();
  }
}

/**
 * Gets a device whose limits hold the schedule: its largest segment as one buffer and one binding, and
 * its most bindings in one entry point, asking for more than the defaults where the adapter allows it.
 */
async function openDevice(
  gpu: GpuLike,
  manifest: Manifest,
  schedule: WebGpuSchedule,
  where: string,
): Promise<{ device: GpuDeviceLike; half: boolean }> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error(
      `${where}: WebGPU found no adapter (no GPU, or no Vulkan/Metal/D3D12 driver WebGPU accepts)`,
    );
  const requiredLimits: Record<string, number> = {};
  const ask = (name: keyof typeof DEFAULT_LIMITS, need: number, refusal: () => string) => {
    if (adapter.limits[name] < need)
      throw new Error(`${where}: ${refusal()}, but this adapter's ${name} is ${adapter.limits[name]}`);
    if (need > DEFAULT_LIMITS[name]) requiredLimits[name] = need;
  };
  const largest = schedule.segments.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const segmentNeed = () =>
    `needs a GPU storage buffer of ${largest.bytes} bytes (${tensorsIn(manifest, largest.offset, largest.bytes)})`;
  ask('maxBufferSize', largest.bytes, segmentNeed);
  ask('maxStorageBufferBindingSize', largest.bytes, segmentNeed);
  const widest = [...schedule.init, ...schedule.run].reduce(
    (a, b) => (b.bindings.length > a.bindings.length ? b : a),
    { entry: '', kernel: '', workgroups: [0, 0, 0], bindings: [] } as WgslDispatch,
  );
  ask('maxStorageBuffersPerShaderStage', widest.bindings.length, () => {
    const first = schedule.segments[widest.bindings[0]];
    const last = schedule.segments[widest.bindings[widest.bindings.length - 1]];
    const span = last.offset + last.bytes - first.offset;
    return `kernel "${widest.kernel}" (${widest.entry}) binds ${widest.bindings.length} storage buffers (${tensorsIn(manifest, first.offset, span)})`;
  });
  // the kernels' f16 twins, where the bundle has them and the adapter can run them
  const half = schedule.halfFrom !== undefined && adapter.features?.has(SHADER_F16) === true;
  const device = await adapter.requestDevice({
    requiredLimits,
    ...(half && { requiredFeatures: [SHADER_F16] }),
  });
  return { device, half };
}

const SHADER_F16 = 'shader-f16' as const;

/**
 * The WGSL module to compile: with shader-f16, the whole of it with f16 enabled; else the part before the
 * entry points computing in f16 (schedule.halfFrom), which needs no f16.
 */
function moduleCode(wgsl: string, schedule: WebGpuSchedule, half: boolean): string {
  if (half) return `enable f16;\n${wgsl}`;
  return schedule.halfFrom === undefined ? wgsl : wgsl.slice(0, schedule.halfFrom);
}

/** The entry point a dispatch runs: its f16 twin when the device computes in f16. */
const entryOf = (d: WgslDispatch, half: boolean): string => (half && d.f16Entry) || d.entry;

/** The named tensors (weights, inputs, outputs) in bytes [offset, offset + bytes), largest first. */
function tensorsIn(manifest: Manifest, offset: number, bytes: number): string {
  const named = [
    ...manifest.weights.map((w) => ({
      what: `weight "${w.name}"`,
      offset: manifest.memory.weightsOffset + w.offset,
      bytes: w.byteLength,
    })),
    ...manifest.inputs.map((s) => ({ what: `input "${s.name}"`, offset: s.offset, bytes: s.byteLength })),
    ...manifest.outputs.map((s) => ({ what: `output "${s.name}"`, offset: s.offset, bytes: s.byteLength })),
  ]
    .filter((t) => t.offset < offset + bytes && offset < t.offset + t.bytes)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((t) => `${t.what}, ${t.bytes} bytes`);
  return named.length ? named.join('; ') : 'intermediate tensors only';
}

/**
 * The pipeline layout and bind group of each set of segments entry points bind (made once per set);
 * binding i of group 0 is segment i, read-only where the module declares it `read`.
 */
function bindingsOf(device: GpuDeviceLike, segments: WgslSegment[], memory: GpuBufferLike[]) {
  const made = new Map<string, { layout: GpuHandle; group: GpuHandle }>();
  return (bindings: number[]) => {
    const key = bindings.join(',');
    let found = made.get(key);
    if (!found) {
      const layout = device.createBindGroupLayout({
        entries: bindings.map((i) => ({
          binding: i,
          visibility: COMPUTE_STAGE,
          buffer: { type: segments[i].access === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      const group = device.createBindGroup({
        layout,
        entries: bindings.map((i) => ({ binding: i, resource: { buffer: memory[i] } })),
      });
      found = { layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), group };
      made.set(key, found);
    }
    return found;
  };
}

/** WGSL compile errors, each named by the kernel whose entry point holds the line. */
async function checkCompiled(
  module: GpuShaderModuleLike,
  code: string,
  schedule: WebGpuSchedule,
  where: string,
) {
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  if (errors.length === 0) return;
  const lines = code.split('\n');
  const kernelOf = new Map(
    [...schedule.init, ...schedule.run].flatMap((d) =>
      [d.entry, d.f16Entry ?? d.entry].map((e) => [e, d.kernel]),
    ),
  );
  const located = errors.slice(0, 5).map((m) => {
    let entry: string | undefined;
    for (let i = Math.min(m.lineNum, lines.length) - 1; i >= 0 && !entry; i--)
      entry = /^fn (\w+)\(/.exec(lines[i])?.[1];
    const kernel =
      entry && kernelOf.has(entry)
        ? `kernel "${kernelOf.get(entry)}" (${entry})`
        : `function ${entry ?? '?'}`;
    return `${kernel}, line ${m.lineNum}:${m.linePos}: ${m.message}`;
  });
  throw new Error(`${where}: ${schedule.file} does not compile: ${located.join('; ')}`);
}

async function createPipelines(
  device: GpuDeviceLike,
  module: GpuShaderModuleLike,
  bound: ReturnType<typeof bindingsOf>,
  schedule: WebGpuSchedule,
  half: boolean,
  where: string,
): Promise<Map<string, GpuHandle>> {
  const byEntry = new Map([...schedule.init, ...schedule.run].map((d) => [entryOf(d, half), d]));
  const made = await Promise.all(
    [...byEntry].map(async ([entry, { kernel, bindings }]) => {
      const { layout } = bound(bindings);
      try {
        return [
          entry,
          await device.createComputePipelineAsync({
            layout,
            compute: { module, entryPoint: entry },
            label: entry,
          }),
        ] as const;
      } catch (err) {
        throw new Error(`${where}: kernel "${kernel}" (${entry}): ${(err as Error).message}`, { cause: err });
      }
    }),
  );
  return new Map(made);
}

/** Runs `work` and throws what WebGPU reported against it (validation, out of memory). */
async function withErrors<T>(device: GpuDeviceLike, what: string, work: () => T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const result = work();
  const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
  if (errors.length) throw new Error(`${what}: ${errors.map((e) => e.message).join('; ')}`);
  return result;
}

/**
 * writeBuffer moves whole words from an ArrayBuffer: pad the tail with zeros (past a tensor, up to its
 * 16-byte-aligned slot, no other tensor lives) and copy out of shared memory.
 */
function padded(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteLength % 4 === 0 && bytes.buffer instanceof ArrayBuffer)
    return bytes as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(words(bytes.byteLength));
  out.set(bytes);
  return out;
}
