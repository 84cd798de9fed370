/**
 * The slice of the WebGPU API the webgpu backend uses, declared structurally so the runtime needs neither
 * @webgpu/types nor the DOM's GPU types: navigator.gpu and the `webgpu` npm package's create([]) both fit.
 */

/** The WebGPU entry point (navigator.gpu). */
export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
  }): Promise<GpuAdapterLike | null>;
}

export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

export interface GpuAdapterLike {
  readonly limits: GpuLimits;
  /** how the adapter describes itself (`kiln bench --cost` names it); older implementations lack it */
  readonly info?: {
    readonly vendor: string;
    readonly architecture: string;
    readonly device: string;
    readonly description: string;
  };
  /** optional features (`shader-f16`...); older implementations lack the set */
  readonly features?: { has(feature: string): boolean };
  requestDevice(descriptor?: {
    requiredLimits?: Record<string, number>;
    requiredFeatures?: 'shader-f16'[];
  }): Promise<GpuDeviceLike>;
}

export interface GpuBufferLike {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<undefined | void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): undefined | void;
  destroy(): undefined | void;
}

export interface GpuCompilationMessage {
  readonly message: string;
  readonly type: 'error' | 'warning' | 'info';
  readonly lineNum: number;
  readonly linePos: number;
}

export interface GpuShaderModuleLike {
  getCompilationInfo(): Promise<{ readonly messages: readonly GpuCompilationMessage[] }>;
}

/**
 * Objects the backend only hands back to the device (pipelines, bind groups, command buffers). `object`, so
 * that the real, branded WebGPU types fit where these appear inside descriptors.
 */
export type GpuHandle = object;

export interface GpuComputePassLike {
  setPipeline(pipeline: GpuHandle): undefined | void;
  setBindGroup(index: number, group: GpuHandle | null | undefined): undefined | void;
  dispatchWorkgroups(x: number, y?: number, z?: number): undefined | void;
  end(): undefined | void;
}

export interface GpuCommandEncoderLike {
  beginComputePass(): GpuComputePassLike;
  copyBufferToBuffer(
    source: GpuBufferLike,
    sourceOffset: number,
    destination: GpuBufferLike,
    destinationOffset: number,
    size: number,
  ): undefined | void;
  finish(): GpuHandle;
}

export interface GpuQueueLike {
  writeBuffer(buffer: GpuBufferLike, offset: number, data: Uint8Array<ArrayBuffer>): undefined | void;
  submit(commands: Iterable<GpuHandle>): undefined | void;
}

export interface GpuErrorLike {
  readonly message: string;
}

export interface GpuDeviceLike {
  readonly limits: GpuLimits;
  readonly queue: GpuQueueLike;
  readonly lost: Promise<{ readonly message: string }>;
  createBuffer(descriptor: { size: number; usage: number; label?: string }): GpuBufferLike;
  createShaderModule(descriptor: { code: string; label?: string }): GpuShaderModuleLike;
  createBindGroupLayout(descriptor: {
    entries: Iterable<{
      binding: number;
      visibility: number;
      buffer?: { type?: 'storage' | 'read-only-storage' };
    }>;
  }): GpuHandle;
  createPipelineLayout(descriptor: { bindGroupLayouts: Iterable<GpuHandle | null | undefined> }): GpuHandle;
  createComputePipelineAsync(descriptor: {
    layout: GpuHandle | 'auto';
    compute: { module: GpuShaderModuleLike; entryPoint?: string };
    label?: string;
  }): Promise<GpuHandle>;
  createBindGroup(descriptor: {
    layout: GpuHandle;
    entries: Iterable<{ binding: number; resource: GpuHandle }>;
  }): GpuHandle;
  createCommandEncoder(): GpuCommandEncoderLike;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): undefined | void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  destroy(): undefined | void;
}
