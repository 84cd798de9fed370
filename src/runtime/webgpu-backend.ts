/**
 * The webgpu backend: one storage buffer mirroring the wasm module's linear memory (weights at
 * memory.weightsOffset, inputs and outputs at their signatures' offsets), the bundle's WGSL module with
 * one compute pipeline per entry point, and the manifest's dispatch schedule.
 */
import { dimsBlockWords, dimValue, polynomialValue } from '../bundle/shape-dims.js';

import type { LoadedBundleFiles } from '../bundle/files.js';
import type { Manifest, WebGpuSchedule, WgslDispatch } from '../bundle/manifest.js';
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
const DEFAULT_LIMITS = { maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456 };

/** Invocations per workgroup of the WGSL generator's spread entry points (`@workgroup_size(64)`). */
const WORKGROUP_INVOCATIONS = 64;

const words = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** A step of the schedule, ready to encode. */
interface Step {
  pipeline: GpuHandle;
  dispatch: WgslDispatch;
}

export class WebGpuInstance {
  private constructor(
    private readonly manifest: Manifest,
    private readonly device: GpuDeviceLike,
    private readonly memory: GpuBufferLike,
    private readonly bindGroup: GpuHandle,
    private readonly runSteps: Step[],
    /** where each output lands in the staging buffer */
    private readonly staging: GpuBufferLike,
    private readonly stagingOffsets: number[],
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
    const device = await openDevice(gpu, schedule.memoryBytes, where);
    try {
      const module = device.createShaderModule({ code: files.wgsl, label: schedule.file });
      await checkCompiled(module, files.wgsl, schedule, where);
      const layout = device.createBindGroupLayout({
        entries: [{ binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } }],
      });
      const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
      const pipelines = await createPipelines(device, module, pipelineLayout, schedule, where);
      const steps = (list: WgslDispatch[]) =>
        list.map((d) => ({ pipeline: pipelines.get(d.entry)!, dispatch: d }));

      const memory = await withErrors(
        device,
        `${where}: allocating ${schedule.memoryBytes} bytes of GPU memory`,
        () =>
          device.createBuffer({
            size: schedule.memoryBytes,
            usage: STORAGE | COPY_SRC | COPY_DST,
            label: 'memory',
          }),
      );
      const bindGroup = device.createBindGroup({
        layout,
        entries: [{ binding: 0, resource: { buffer: memory } }],
      });
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
      const instance = new WebGpuInstance(
        manifest,
        device,
        memory,
        bindGroup,
        steps(schedule.run),
        staging,
        stagingOffsets,
      );
      device.queue.writeBuffer(memory, manifest.memory.weightsOffset, padded(files.weights));
      await instance.submit(steps(schedule.init), 'init', () => {});
      return instance;
    } catch (err) {
      device.destroy();
      throw err;
    }
  }

  /**
   * One inference: the inputs' bytes in the order of manifest.inputs and the shape symbols' values,
   * validated. The symbols go into the dims block, where the kernels read them. A dispatch whose count of
   * invocations depends on them is sized for their values; the others (tiled gemms, counts with a min or
   * max) keep the size of the bounds, their invocations past a run-time extent returning at once.
   * Each output is read back at its real shape (the kernels write it packed at that shape).
   */
  async run(
    inputBytes: Uint8Array[],
    symbols: Readonly<Record<string, number>> = {},
  ): Promise<Record<string, Tensor>> {
    const { inputs, outputs, dims: dimsBlock } = this.manifest;
    const where = `model "${this.manifest.model.name}"`;
    const dimsWords = dimsBlock && dimsBlockWords(where, dimsBlock, symbols);
    const shapes = outputs.map((sig) => sig.shape.map((d) => dimValue(d, symbols)));
    const byteLengths = outputs.map(
      (sig, i) => elementCount(shapes[i]) * elementBytes(sig.dtype as NumericDType),
    );
    if (dimsWords)
      this.device.queue.writeBuffer(this.memory, dimsBlock.offset, new Uint8Array(dimsWords.buffer));
    inputs.forEach((sig, i) => this.device.queue.writeBuffer(this.memory, sig.offset, padded(inputBytes[i])));
    await this.submit(dimsWords ? this.sizedSteps(symbols) : this.runSteps, 'run', (encoder) =>
      outputs.forEach((sig, i) => {
        if (byteLengths[i] > 0)
          encoder.copyBufferToBuffer(
            this.memory,
            sig.offset,
            this.staging,
            this.stagingOffsets[i],
            words(byteLengths[i]),
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
   * The run schedule with each dispatch whose count of invocations depends on shape symbols sized for
   * their values (by the manifest's upper bound of the count, never past the bounds' size). A dispatch
   * over a 2-D grid (past 65535 workgroups at the bounds) keeps its bound size.
   */
  private sizedSteps(symbols: Readonly<Record<string, number>>): Step[] {
    return this.runSteps.map((step) => {
      const { invocations, workgroups } = step.dispatch;
      if (!invocations || workgroups[1] !== 1) return step;
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
    for (const { pipeline, dispatch } of steps) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, this.bindGroup);
      pass.dispatchWorkgroups(...dispatch.workgroups);
    }
    pass.end();
    after(encoder);
    await withErrors(this.device, `model "${this.manifest.model.name}": ${phase}`, () =>
      this.device.queue.submit([encoder.finish()]),
    );
  }

  dispose(): void {
    this.memory.destroy();
    this.staging.destroy();
    this.device.destroy();
  }
}

async function openDevice(gpu: GpuLike, memoryBytes: number, where: string): Promise<GpuDeviceLike> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error(
      `${where}: WebGPU found no adapter (no GPU, or no Vulkan/Metal/D3D12 driver WebGPU accepts)`,
    );
  const requiredLimits: Record<string, number> = {};
  for (const name of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
    if (adapter.limits[name] < memoryBytes)
      throw new Error(
        `${where}: needs one GPU storage buffer of ${memoryBytes} bytes, but this adapter's ${name} is ${adapter.limits[name]}`,
      );
    if (memoryBytes > DEFAULT_LIMITS[name]) requiredLimits[name] = memoryBytes;
  }
  return adapter.requestDevice({ requiredLimits });
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
  const kernelOf = new Map([...schedule.init, ...schedule.run].map((d) => [d.entry, d.kernel]));
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
  layout: GpuHandle,
  schedule: WebGpuSchedule,
  where: string,
): Promise<Map<string, GpuHandle>> {
  const byEntry = new Map([...schedule.init, ...schedule.run].map((d) => [d.entry, d.kernel]));
  const made = await Promise.all(
    [...byEntry].map(async ([entry, kernel]) => {
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
