/** The served models by name and version, and the protocol's model metadata. */
import type { Model } from '../runtime/index.js';
import type { BatchingOptions } from './batching.js';
import { DATATYPE_OF } from './datatypes.js';
import { HttpError } from './http-error.js';
import type { ServedTensor } from './infer.js';
import { TEXT_INPUT_METADATA } from './text-infer.js';

export interface ServedModel {
  /** the name in URLs; usually the bundle manifest's model name */
  name: string;
  /** optional version, e.g. "1"; a name may be served in several versions */
  version?: string;
  model: Model;
  /** dynamic batching, for a model compiled at its largest batch; off when unset */
  batching?: BatchingOptions;
}

export const PLATFORM = 'kiln-wasm';

const byVersion = (a: ServedModel, b: ServedModel) =>
  (a.version ?? '').localeCompare(b.version ?? '', 'en', { numeric: true });

export class ModelRegistry {
  private readonly byName = new Map<string, ServedModel[]>();

  constructor(models: readonly ServedModel[]) {
    for (const served of models) {
      const versions = this.byName.get(served.name) ?? [];
      if (versions.some((v) => v.version === served.version))
        throw new Error(
          `serve: model "${served.name}"${served.version === undefined ? '' : ` version "${served.version}"`} is registered twice`,
        );
      versions.push(served);
      this.byName.set(served.name, versions.sort(byVersion));
    }
  }

  get all(): ServedModel[] {
    return [...this.byName.values()].flat();
  }

  /** The named model; without a version, its highest version (numeric-aware). */
  resolve(name: string, version: string | undefined): ServedModel {
    const versions = this.byName.get(name);
    if (!versions)
      throw new HttpError(
        404,
        `unknown model "${name}" (served models: ${[...this.byName.keys()].map((n) => `"${n}"`).join(', ') || 'none'})`,
      );
    if (version === undefined) return versions[versions.length - 1];
    const found = versions.find((v) => v.version === version);
    if (!found)
      throw new HttpError(
        404,
        `model "${name}" has no version "${version}" (versions: ${this.versionsOf(name).join(', ') || 'none'})`,
      );
    return found;
  }

  versionsOf(name: string): string[] {
    return (this.byName.get(name) ?? []).flatMap((v) => (v.version === undefined ? [] : [v.version]));
  }

  /**
   * The protocol's model metadata; `signature` is the model's tensors as served (batched: leading -1). A
   * text model lists its texts input (BYTES, shape [-1]) first, before the numeric inputs it also takes.
   */
  metadata(served: ServedModel, signature: { inputs: ServedTensor[]; outputs: ServedTensor[] }) {
    const tensor = ({ name, dtype, shape }: ServedTensor) => ({
      name,
      datatype: DATATYPE_OF[dtype],
      shape: [...shape],
    });
    return {
      name: served.name,
      versions: this.versionsOf(served.name),
      platform: PLATFORM,
      inputs: [
        ...(served.model.tokenizer !== undefined
          ? [{ ...TEXT_INPUT_METADATA, shape: [...TEXT_INPUT_METADATA.shape] }]
          : []),
        ...signature.inputs.map(tensor),
      ],
      outputs: signature.outputs.map(tensor),
    };
  }
}
