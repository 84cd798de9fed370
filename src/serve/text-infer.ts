/**
 * The Open Inference Protocol's `/infer` for text models: one BYTES input of shape [n] whose data are the
 * n texts (UTF-8 strings in JSON). They are tokenized by the bundle's tokenizer and run like
 * /v1/embeddings' inputs; the answer is the task's output (or the model's first), [n, width].
 * `parameters.truncation` (true|false) says what to do with an over-long text, as in /v1/embeddings.
 */
import type { Model } from '../runtime/index.js';
import { MAX_EMBEDDING_INPUTS, type EmbeddingsRequest } from './embeddings.js';
import { badRequest } from './http-error.js';
import { quoted, typeName } from './tensors.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a request body is text for this model: the model has a tokenizer and the request a BYTES input. */
export function isTextInfer(model: Model, json: unknown): boolean {
  return (
    model.tokenizer !== undefined &&
    isObject(json) &&
    Array.isArray(json.inputs) &&
    json.inputs.some((i: unknown) => isObject(i) && i.datatype === 'BYTES')
  );
}

/** The texts input as model metadata lists it for a text model: any number of UTF-8 strings. */
export const TEXT_INPUT_METADATA = { name: 'text', datatype: 'BYTES', shape: [-1] } as const;

export interface TextInfer {
  id: string | undefined;
  /** the texts, as an embeddings request would carry them */
  request: EmbeddingsRequest;
  /** the output to answer with */
  output: string;
}

export function parseTextInfer(model: Model, json: Json): TextInfer {
  const id = json.id;
  if (id !== undefined && typeof id !== 'string')
    throw badRequest(`"id" must be a string, got ${typeName(id)}`);
  const inputs = json.inputs as unknown[];
  if (inputs.length !== 1)
    throw badRequest(`a text request has one BYTES input (the texts), got ${inputs.length} inputs`);
  const input = inputs[0] as Json;
  const { shape, data } = input;
  if (!Array.isArray(data))
    throw badRequest(`inputs[0]: "data" must be an array of strings (the texts), got ${quoted(data)}`);
  const notText = data.findIndex((t) => typeof t !== 'string');
  if (notText >= 0)
    throw badRequest(`inputs[0].data[${notText}] must be a string (a text), got ${typeName(data[notText])}`);
  if (data.length > MAX_EMBEDDING_INPUTS)
    throw badRequest(
      `inputs[0] has ${data.length} texts, more than the ${MAX_EMBEDDING_INPUTS} one request may carry`,
    );
  if (!Array.isArray(shape) || shape.length !== 1 || shape[0] !== data.length)
    throw badRequest(
      `inputs[0]: "shape" must be [${data.length}] for ${data.length} texts, got ${quoted(shape)}`,
    );
  if (data.length === 0) throw badRequest('inputs[0] has no texts');
  const parameters = isObject(json.parameters) ? json.parameters : {};
  const truncation = parameters.truncation;
  if (truncation !== undefined && typeof truncation !== 'boolean')
    throw badRequest(`parameters.truncation must be true or false, got ${quoted(truncation)}`);
  data.forEach((t, i) => {
    if (t === '') throw badRequest(`input[${i}] is an empty string`);
  });
  const task = model.manifest.task;
  return {
    id,
    request: {
      model: model.name,
      items: data as string[],
      encoding: 'float',
      dimensions: undefined,
      overLong: truncation === undefined ? undefined : truncation ? 'truncate' : 'refuse',
    },
    output: task?.output ?? model.outputs[0].name,
  };
}
