/**
 * AWS Lambda's limits, in one place, and what a Kiln package needs against them. The numbers are from
 * "Lambda quotas" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), checked 2026.
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import type { Manifest, TensorSignature } from '../bundle/manifest.js';
import { DeployError } from './types.js';
import { upperBounds } from '../bundle/shape-dims.js';

const MB = 1024 * 1024;

export const LAMBDA_LIMITS = {
  /** a zip uploaded straight to the API (CreateFunction / UpdateFunctionCode ZipFile); via S3 it may be larger */
  directUploadZipBytes: 50 * MB,
  /** the function's code unzipped, layers included, whichever way it was uploaded */
  unzippedBytes: 250 * MB,
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
  /** a synchronous invocation's request event and its response, each */
  syncPayloadBytes: 6 * MB,
} as const;

/** Lambda allots CPU in proportion to memory and 1,769 MB buys one full vCPU; inference is CPU-bound. */
export const ONE_VCPU_MEMORY_MB = 1769;

/** Node.js, Hono, the handler and two in-flight request/response bodies, besides the models themselves. */
const RUNTIME_HEADROOM_BYTES = 256 * MB;

/** The part of a manifest the memory estimate reads. */
export type MemoryNeeds = Pick<Manifest['memory'], 'totalBytes' | 'weightsBytes'>;

/**
 * Bytes a function needs to serve these models: each model's linear memory, plus its weights.bin read
 * into a buffer before init() copies it in, plus the runtime's headroom.
 */
export function lambdaBytesNeeded(models: MemoryNeeds[]): number {
  return models.reduce((sum, m) => sum + m.totalBytes + m.weightsBytes, RUNTIME_HEADROOM_BYTES);
}

/** The memory setting for these models: what they need, and never less than one vCPU's worth. */
export function lambdaMemoryMb(models: MemoryNeeds[]): number {
  return Math.max(ONE_VCPU_MEMORY_MB, Math.ceil(lambdaBytesNeeded(models) / MB));
}

/** The memory setting for these models, or a DeployError when they need more than Lambda's maximum. */
export function checkLambdaMemory(models: MemoryNeeds[]): { memoryMb: number; neededBytes: number } {
  const neededBytes = lambdaBytesNeeded(models);
  const memoryMb = lambdaMemoryMb(models);
  if (memoryMb > LAMBDA_LIMITS.maxMemoryMb)
    throw new DeployError(
      `the bundles need about ${formatMb(neededBytes)} of memory, over Lambda's ${LAMBDA_LIMITS.maxMemoryMb} MB maximum: deploy fewer or smaller bundles, or use --target gpu`,
    );
  return { memoryMb, neededBytes };
}

/** The memory plans of the manifests inside a Kiln deployment zip (models/<name>/manifest.json). */
export function memoryNeedsInZip(zipPath: string): MemoryNeeds[] {
  const entries = unzipSync(new Uint8Array(readFileSync(zipPath)), {
    filter: (file) => /^models\/[^/]+\/manifest\.json$/.test(file.name),
  });
  return Object.values(entries).map(
    (bytes) => (JSON.parse(new TextDecoder().decode(bytes)) as Manifest).memory,
  );
}

/** Sum of the entries' uncompressed sizes, read from the zip's directory without inflating anything. */
export function unzippedBytes(zip: Uint8Array): number {
  let total = 0;
  unzipSync(zip, {
    filter(file) {
      total += file.originalSize;
      return false;
    },
  });
  return total;
}

/** Room in an event or result for everything but the body: request context, headers, the JSON header. */
const ENVELOPE_BYTES = 64 * 1024;

/**
 * The size of the Lambda event (or result) carrying these tensors with the binary tensor extension,
 * the most compact encoding: Function URLs and HTTP APIs pass binary bodies base64-encoded.
 */
export function binaryPayloadBytes(tensors: TensorSignature[]): number {
  const body = tensors.reduce((sum, t) => sum + t.byteLength, 0);
  return Math.ceil(body / 3) * 4 + ENVELOPE_BYTES;
}

/** A float32 written as JSON text takes about this many characters with its comma. */
const JSON_BYTES_PER_ELEMENT = 16;

export function jsonPayloadBytes(tensors: TensorSignature[]): number {
  const elements = tensors.reduce((sum, t) => sum + upperBounds(t.shape).reduce((a, b) => a * b, 1), 0);
  return elements * JSON_BYTES_PER_ELEMENT + ENVELOPE_BYTES;
}

export function formatMb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < MB ? `${(bytes / 1024).toFixed(1)} KB` : formatMb(bytes);
}

export interface LambdaCheck {
  /** the memory to give the function */
  memoryMb: number;
  /** what the models need of it */
  neededBytes: number;
  zipBytes: number;
  unzippedBytes: number;
  /** one line each for the plan */
  plan: string[];
}

/**
 * Checks a package against Lambda's limits before anything is uploaded: throws a DeployError for what
 * cannot work, `warn`s of what may not (JSON bodies too large where binary ones fit).
 * `directUpload`: the zip goes straight to the API (`--update-code`), not through S3.
 */
export function checkLambdaLimits(
  zip: Uint8Array,
  manifests: Manifest[],
  directUpload: boolean,
  warn: (message: string) => void,
): LambdaCheck {
  const fail = (message: string): never => {
    throw new DeployError(message);
  };
  const limits = LAMBDA_LIMITS;
  const unzipped = unzippedBytes(zip);
  if (unzipped > limits.unzippedBytes)
    fail(
      `the Lambda package is ${formatMb(unzipped)} unzipped, over Lambda's ${formatMb(limits.unzippedBytes)} limit: deploy fewer or smaller bundles (kiln compile --weights int8), or use --target gpu`,
    );
  if (directUpload && zip.byteLength > limits.directUploadZipBytes)
    fail(
      `the Lambda zip is ${formatMb(zip.byteLength)}, over the ${formatMb(limits.directUploadZipBytes)} Lambda accepts uploaded directly (--update-code): deploy without --update-code, which uploads through S3`,
    );
  const { memoryMb, neededBytes } = checkLambdaMemory(manifests.map((m) => m.memory));
  const plan: string[] = [];
  for (const m of manifests) {
    const name = m.model.name;
    for (const [what, tensors] of [
      ['request', m.inputs],
      ['response', m.outputs],
    ] as const) {
      const binary = binaryPayloadBytes(tensors);
      if (binary > limits.syncPayloadBytes)
        fail(
          `model ${name}: an inference ${what} is ${formatMb(binary)} even as binary tensors (base64 in the Lambda event), over Lambda's ${formatMb(limits.syncPayloadBytes)} payload limit: use --target gpu`,
        );
      const json = jsonPayloadBytes(tensors);
      if (json > limits.syncPayloadBytes)
        warn(
          `model ${name}: a JSON inference ${what} may reach ${formatMb(json)}, over Lambda's ${formatMb(limits.syncPayloadBytes)} payload limit; use the binary tensor extension (Inference-Header-Content-Length), which needs ${formatMb(binary)}`,
        );
    }
    const bytes = (tensors: TensorSignature[]) =>
      formatSize(tensors.reduce((sum, t) => sum + t.byteLength, 0));
    plan.push(
      `model ${name}: a request carries ${bytes(m.inputs)}, a response ${bytes(m.outputs)} of binary tensors (Lambda's payload limit: ${formatMb(limits.syncPayloadBytes)} each, base64-encoded)`,
    );
  }
  plan.unshift(
    `package: ${formatSize(zip.byteLength)} zipped, ${formatSize(unzipped)} unzipped (limits: ${formatMb(limits.directUploadZipBytes)} zipped for direct upload, ${formatMb(limits.unzippedBytes)} unzipped)`,
    `memory: ${memoryMb} MB (the bundles need about ${formatMb(neededBytes)}; at least ${ONE_VCPU_MEMORY_MB} MB for one vCPU)`,
  );
  return { memoryMb, neededBytes, zipBytes: zip.byteLength, unzippedBytes: unzipped, plan };
}
