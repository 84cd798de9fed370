/**
 * `POST /v1/embeddings`, compatible with OpenAI's API: `input` as a string, an array of strings, or token
 * ids (an array of integers, or of such arrays), `model`, `encoding_format` float|base64, `dimensions`;
 * the answer's `usage.prompt_tokens` counts the tokens the model read. A Kiln extension, `truncation`
 * (true|false), says what to do with a text longer than the model takes; left out, the tokenizer's own
 * truncation setting decides. Texts are tokenized by the bundle's tokenizer, packed into the model's
 * [batch, sequence] (padded with the attention mask off: to the compiled sequence length, or where the
 * sequence dim is known only at run time to the longest text of the run), run, and split back per text.
 */
import type { ShapeDim, TextTask } from '../bundle/manifest.js';
import { isSymbolic } from '../bundle/shape-dims.js';
import type { ElementArray, Model, Tensor, TensorInfo } from '../runtime/index.js';
import type { OverLong, TextEncoding, TextTokenizer } from '../runtime/text-tokenizer.js';
import { badRequest } from './http-error.js';
import { quoted, typeName } from './tensors.js';

/** OpenAI's limit on the items of one request (also the texts of one OIP text request). */
export const MAX_EMBEDDING_INPUTS = 2048;

export interface EmbeddingsRequest {
  model: string;
  /** strings to tokenize, or token ids to use as they are */
  items: (string | unknown[])[];
  encoding: 'float' | 'base64';
  dimensions: number | undefined;
  overLong: OverLong | undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseEmbeddingsRequest(json: unknown): EmbeddingsRequest {
  if (!isObject(json)) throw badRequest(`the request must be a JSON object, got ${typeName(json)}`);
  if (typeof json.model !== 'string') throw badRequest(`"model" must be a string, got ${quoted(json.model)}`);
  const items = inputItems(json.input);
  if (items.length > MAX_EMBEDDING_INPUTS)
    throw badRequest(
      `"input" has ${items.length} items, more than the ${MAX_EMBEDDING_INPUTS} one request may carry`,
    );
  const encoding = json.encoding_format ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64')
    throw badRequest(`"encoding_format" must be "float" or "base64", got ${quoted(encoding)}`);
  const { dimensions, truncation } = json;
  if (dimensions !== undefined && !(Number.isInteger(dimensions) && (dimensions as number) >= 1))
    throw badRequest(`"dimensions" must be an integer ≥ 1, got ${quoted(dimensions)}`);
  if (truncation !== undefined && typeof truncation !== 'boolean')
    throw badRequest(`"truncation" must be true or false, got ${quoted(truncation)}`);
  return {
    model: json.model,
    items,
    encoding,
    dimensions: dimensions as number | undefined,
    overLong: truncation === undefined ? undefined : truncation ? 'truncate' : 'refuse',
  };
}

/** OpenAI's four forms of `input`, as a list of texts or token arrays. */
function inputItems(input: unknown): (string | unknown[])[] {
  if (typeof input === 'string') return [checkText(input, 'input')];
  if (!Array.isArray(input) || input.length === 0)
    throw badRequest(
      `"input" must be a string or a non-empty array of strings or token ids, got ${quoted(input)}`,
    );
  // one token array: [101, 2023, ...]
  if (input.every((v) => typeof v === 'number')) return [checkTokens(input, 'input')];
  return input.map((item: unknown, i) => {
    const where = `input[${i}]`;
    if (typeof item === 'string') return checkText(item, where);
    if (Array.isArray(item)) return checkTokens(item, where);
    throw badRequest(`${where} must be a string or an array of token ids, got ${typeName(item)}`);
  });
}

function checkText(text: string, where: string): string {
  if (text.length === 0) throw badRequest(`${where} is an empty string`);
  return text;
}

function checkTokens(ids: unknown[], where: string): unknown[] {
  if (ids.length === 0) throw badRequest(`${where} is an empty array of token ids`);
  return ids;
}

/** The model's embedding output: the feature-extraction task's, or a model output that is one vector per row. */
export function embeddingOutput(model: Model): { name: string; normalized: boolean } {
  const task: TextTask | undefined = model.manifest.task;
  if (!model.manifest.tokenizer)
    throw badRequest(
      `model "${model.name}" has no tokenizer: compile it with --tokenizer tokenizer.json to serve /v1/embeddings`,
    );
  if (task?.name === 'feature-extraction') return { name: task.output, normalized: task.normalize };
  const [first] = model.outputs;
  if (task === undefined && first?.dtype === 'float32' && first.shape.length === 2)
    return { name: first.name, normalized: false };
  throw badRequest(
    `model "${model.name}" does not produce embeddings: compile it with --task feature-extraction`,
  );
}

/** Tokenizes every item, or fails naming the first bad one (400); nothing runs then. */
export function encodeItems(tokenizer: TextTokenizer, request: EmbeddingsRequest): TextEncoding[] {
  const overLong = request.overLong ?? tokenizer.defaultOverLong;
  return request.items.map((item, i) => {
    const where = request.items.length === 1 && typeof item === 'string' ? 'input' : `input[${i}]`;
    try {
      return typeof item === 'string'
        ? tokenizer.encode(item, overLong, where)
        : tokenizer.checkIds(item, overLong, where);
    } catch (err) {
      if (err instanceof RangeError) throw badRequest(err.message);
      throw err;
    }
  });
}

/**
 * The feeds of `rows` model rows holding `encodings` (the rest padding, attention off): ids, attention
 * mask and token types as the tokenizer's `inputs` name them, each [rows, sequence] in the input's dtype,
 * where sequence is the compiled length, or for a sequence dim known only at run time the longest
 * encoding's (at least the dim's lower bound).
 */
export function packFeeds(
  model: Model,
  tokenizer: TextTokenizer,
  encodings: TextEncoding[],
  rows: number,
): Record<string, Tensor> {
  const { inputs, padding } = tokenizer.info;
  const padId = padding?.padId ?? 0;
  const sequence = paddedLength(textInput(model, tokenizer).shape[1], encodings);
  const fill = (name: string, value: (e: TextEncoding, t: number) => number, pad: number): Tensor => {
    const info = model.inputs.find((i) => i.name === name)!;
    const values = new Array<number>(rows * sequence).fill(pad);
    encodings.forEach((e, r) => e.ids.forEach((_, t) => (values[r * sequence + t] = value(e, t))));
    const data: ElementArray =
      info.dtype === 'int64' ? BigInt64Array.from(values, BigInt) : Int32Array.from(values);
    return { dtype: info.dtype, dims: [rows, sequence], data };
  };
  return {
    [inputs.ids]: fill(inputs.ids, (e, t) => e.ids[t], padId),
    ...(inputs.attentionMask && { [inputs.attentionMask]: fill(inputs.attentionMask, () => 1, 0) }),
    ...(inputs.tokenTypeIds && {
      [inputs.tokenTypeIds]: fill(inputs.tokenTypeIds, (e, t) => e.typeIds[t], 0),
    }),
  };
}

/** The model's token-ids input, [batch, sequence]. */
export function textInput(model: Model, tokenizer: TextTokenizer): TensorInfo {
  return model.inputs.find((i) => i.name === tokenizer.info.inputs.ids)!;
}

function paddedLength(sequence: ShapeDim, encodings: TextEncoding[]): number {
  if (!isSymbolic(sequence)) return sequence;
  return encodings.reduce((n, e) => Math.max(n, e.ids.length), sequence.min);
}

/** One embedding as the request asked: its first `dimensions` values (renormalized if the model normalizes), float or base64. */
export function formatEmbedding(
  vector: Float32Array,
  request: EmbeddingsRequest,
  normalized: boolean,
): number[] | string {
  let v = vector;
  const { dimensions } = request;
  if (dimensions !== undefined) {
    v = vector.slice(0, dimensions);
    if (normalized) {
      const norm = Math.max(Math.hypot(...v), 1e-12);
      v = v.map((x) => x / norm);
    }
  }
  if (request.encoding === 'float') return Array.from(v);
  return base64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/** little-endian float32 bytes (the platforms Kiln runs on are little-endian), as OpenAI encodes them */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
