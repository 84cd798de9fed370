/**
 * Real compiled bundles for the serving tests: the repo's sample MLP (models/mlp.onnx) and a small
 * model whose inputs cover the protocol's datatypes, both compiled with the real compiler.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { compileModel } from '../../src/compiler/compile.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import { writeBundle } from '../../src/bundle/node.js';
import { loadModel, type Model } from '../../src/runtime/index.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { bertBaseText, textShapes } from '../helpers/text-model.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface CompiledBundle {
  dir: string;
  model: Model;
  cleanup(): Promise<void>;
}

async function compileToDir(
  bytes: Uint8Array,
  name: string,
  options: CompileOptions = {},
): Promise<CompiledBundle> {
  const dir = await mkdtemp(join(tmpdir(), `kiln-serve-${name}-`));
  await writeBundle(dir, await compileModel(bytes, { name, ...options }));
  const model = await loadModel(dir);
  return { dir, model, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** models/mlp.onnx (x [batch,64] → probs [batch,10]), at batch 1 unless `batch` is given. */
export async function compileMlp(batch?: number): Promise<CompiledBundle> {
  const bytes = new Uint8Array(await readFile(join(ROOT, 'models/mlp.onnx')));
  return compileToDir(bytes, 'mlp', batch === undefined ? {} : { shapes: { x: [batch, 64] } });
}

/** models/mlp.onnx compiled once for every batch in min..max (`--dim batch=MIN..MAX`). */
export async function compileMlpBatches(min: number, max: number): Promise<CompiledBundle> {
  const bytes = new Uint8Array(await readFile(join(ROOT, 'models/mlp.onnx')));
  return compileToDir(bytes, 'mlp', { dims: { batch: { min, max } } });
}

/**
 * The text encoder over bert-base-uncased's vocabulary (bertBaseText) at [TEXT_BATCH, TEXT_SEQUENCE] with its
 * WordPiece tokenizer, pooled and normalized in the graph.
 */
export const [TEXT_BATCH, TEXT_SEQUENCE] = [2, 16];
export async function compileText(): Promise<CompiledBundle> {
  return compileToDir(bertBaseText().encoder, 'text', {
    shapes: textShapes(TEXT_BATCH, TEXT_SEQUENCE),
    tokenizer: bertBaseText().tokenizer,
    task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
    relaxed: false,
  });
}

/**
 * The same text encoder compiled once for every batch of 1..TEXT_BATCH rows and sequence of
 * 1..TEXT_SEQUENCE tokens (`--dim batch=1..2 --dim sequence=1..16`).
 */
export async function compileTextDynamic(): Promise<CompiledBundle> {
  return compileToDir(bertBaseText().encoder, 'text', {
    dims: { batch: { min: 1, max: TEXT_BATCH }, sequence: { min: 1, max: TEXT_SEQUENCE } },
    tokenizer: bertBaseText().tokenizer,
    task: { name: 'feature-extraction', pooling: 'mean', normalize: true },
    relaxed: false,
  });
}

/** One input per datatype family, each mapped by a simple op to an output of the same datatype. */
export async function compileDtypes(): Promise<CompiledBundle> {
  const model = buildModel({
    name: 'dtypes',
    inputs: [
      { name: 'flags', dtype: 'bool', shape: [2, 2] },
      { name: 'bytes', dtype: 'uint8', shape: [3] },
      { name: 'small', dtype: 'int8', shape: [2] },
      { name: 'big', dtype: 'int64', shape: [2] },
      { name: 'half', dtype: 'float16', shape: [2] },
      { name: 'wide', dtype: 'float64', shape: [2] },
    ],
    outputs: [
      { name: 'not_flags', dtype: 'bool', shape: [2, 2] },
      { name: 'bytes2', dtype: 'uint8', shape: [3] },
      { name: 'neg_small', dtype: 'int8', shape: [2] },
      { name: 'neg_big', dtype: 'int64', shape: [2] },
      { name: 'half2', dtype: 'float16', shape: [2] },
      { name: 'wide_sq', dtype: 'float64', shape: [2] },
    ],
    nodes: [
      { op: 'Not', inputs: ['flags'], outputs: ['not_flags'] },
      { op: 'Add', inputs: ['bytes', 'bytes'], outputs: ['bytes2'] },
      { op: 'Neg', inputs: ['small'], outputs: ['neg_small'] },
      { op: 'Neg', inputs: ['big'], outputs: ['neg_big'] },
      { op: 'Add', inputs: ['half', 'half'], outputs: ['half2'] },
      { op: 'Mul', inputs: ['wide', 'wide'], outputs: ['wide_sq'] },
    ],
  });
  return compileToDir(model, 'dtypes');
}

/**
 * Validators for the protocol's published response schemas (../shared, Apache-2.0). With the binary
 * extension an output carries binary_data_size instead of `data`, so `binary_inference_response`
 * is the same schema with `data` optional.
 */
export async function protocolValidators(): Promise<Record<string, ValidateFunction>> {
  const file = resolve(ROOT, '../shared/data/open-inference-protocol/open_inference_rest.yaml');
  const doc = parse(await readFile(file, 'utf8'));
  const schemas = doc.components.schemas;
  schemas.binary_response_output = {
    ...schemas.response_output,
    required: schemas.response_output.required.filter((k: string) => k !== 'data'),
  };
  schemas.binary_inference_response = structuredClone(schemas.inference_response);
  schemas.binary_inference_response.properties.outputs.items.$ref =
    '#/components/schemas/binary_response_output';
  // the document is OpenAPI, not JSON Schema: its top level and x- keys are not schema keywords
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'oip');
  const names = [
    'metadata_server_response',
    'metadata_server_error_response',
    'metadata_model_response',
    'metadata_model_error_response',
    'inference_response',
    'binary_inference_response',
    'inference_error_response',
  ];
  return Object.fromEntries(names.map((n) => [n, ajv.getSchema(`oip#/components/schemas/${n}`)!]));
}

/** Asserts-free helper: the validator's errors as text, '' when valid. */
export function schemaErrors(validate: ValidateFunction, value: unknown): string {
  return validate(value) ? '' : JSON.stringify(validate.errors);
}

/**
 * A model whose runs wait for `release()`: `started` resolves when the first run begins, so a test can
 * hold a request in flight (queueing, draining).
 */
export function gatedModel(model: Model): { model: Model; started: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const gated: Model = {
    ...model,
    run: async (feeds) => {
      markStarted();
      await gate;
      return model.run(feeds);
    },
  };
  return { model: gated, started, release };
}
