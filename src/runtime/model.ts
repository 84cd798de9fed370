/** A loaded model: validates feeds, runs them one at a time on its backend, hands out fresh outputs. */
import type { Manifest } from '../bundle/manifest.js';
import type { NumericDType } from '../bundle/elements.js';
import { feedBytes, type CheckedFeeds } from './feeds.js';
import type { Feed, Model, Tensor, TensorInfo, WasmVariant } from './types.js';

/** What a backend provides once it has loaded a bundle (WasmInstance, WebGpuInstance). */
export interface BackendInstance {
  /** one inference: the inputs' bytes in the order of manifest.inputs and the symbols' values, validated */
  run(
    inputBytes: Uint8Array[],
    symbols: Readonly<Record<string, number>>,
  ): Record<string, Tensor> | Promise<Record<string, Tensor>>;
  /** frees what the instance holds outside the JS heap (GPU buffers); absent when nothing is held */
  dispose?(): void;
}

export class LoadedModel implements Model {
  readonly name: string;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  private instance: BackendInstance | undefined;
  /** runs share the instance's memory, so each waits for the one before it */
  private queue: Promise<unknown> = Promise.resolve();
  /** the input copies of the last run that has settled, which no run holds: the next run copies into them */
  private spareInputs: Uint8Array[] | undefined;

  constructor(
    readonly manifest: Manifest,
    readonly backend: 'wasm' | 'webgpu',
    instance: BackendInstance,
    readonly variant: WasmVariant | undefined = undefined,
    readonly tokenizer: string | undefined = undefined,
  ) {
    this.name = manifest.model.name;
    this.instance = instance;
    const info = ({ name, dtype, shape }: Manifest['inputs'][number]): TensorInfo => ({
      name,
      dtype: dtype as NumericDType,
      shape: [...shape],
    });
    this.inputs = manifest.inputs.map(info);
    this.outputs = manifest.outputs.map(info);
  }

  run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>> {
    // checked and copied now, not when the run's turn comes: the caller may reuse its buffers at once
    let inputBytes: CheckedFeeds;
    try {
      const { inputs, dims, indexChecks } = this.manifest;
      inputBytes = feedBytes(this.name, inputs, feeds, dims, indexChecks, this.spareInputs);
    } catch (err) {
      return Promise.reject(err);
    }
    // this run holds the spares now; a run called before it settles copies into fresh buffers
    this.spareInputs = undefined;
    const result = this.queue.then(() => this.runNow(inputBytes));
    this.queue = result.catch(() => undefined);
    void this.queue.then(() => {
      this.spareInputs = inputBytes.bytes;
    });
    return result;
  }

  private runNow(inputBytes: CheckedFeeds): Record<string, Tensor> | Promise<Record<string, Tensor>> {
    if (!this.instance) throw new Error(`model "${this.name}" was disposed; load it again to run it`);
    return this.instance.run(inputBytes.bytes, inputBytes.symbols);
  }

  dispose(): void {
    const instance = this.instance;
    this.instance = undefined;
    // a run already started may still be using the instance (awaiting the GPU): free it after that run
    void this.queue.then(() => instance?.dispose?.());
  }
}
