/**
 * An inference request (JSON, optionally with the binary tensor extension) checked against a model
 * and turned into runtime feeds; runtime outputs turned into the protocol's response.
 */
import { elementBytes, elementCount, type NumericDType } from '../bundle/elements.js';
import type { Tensor, TensorInfo } from '../runtime/index.js';
import { typedFromValues } from '../runtime/element-values.js';
import { BATCH_DIM } from './batching.js';
import { DATATYPE_OF, PROTOCOL_DATATYPES } from './datatypes.js';
import { badRequest } from './http-error.js';
import { bytesOfTyped, flattenData, jsonFromTyped, quoted, typedFromBytes, typeName } from './tensors.js';

export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/**
 * A model's tensor as served: BATCH_DIM (-1) marks a dim of any size, the protocol's convention (a dim
 * known only at run time, whose bounds the runtime checks, or with dynamic batching the leading dim).
 */
export interface ServedTensor {
  name: string;
  dtype: TensorInfo['dtype'];
  shape: number[];
}

/** The model's tensors as served without batching: dims known only at run time become BATCH_DIM. */
export const servedTensor = ({ name, dtype, shape }: TensorInfo): ServedTensor => ({
  name,
  dtype,
  shape: shape.map((d) => (typeof d === 'number' ? d : BATCH_DIM)),
});

/** What requests are checked against: a model's tensors as served. */
export interface ServedSignature {
  name: string;
  /** with dynamic batching, each leads with BATCH_DIM */
  inputs: ServedTensor[];
  outputs: ServedTensor[];
  /** with dynamic batching: the most rows one request may carry */
  maxBatch?: number;
}

export interface ParsedInfer {
  id: string | undefined;
  /** as declared by the request; with batching their leading dimension is `rows` */
  feeds: Record<string, Tensor>;
  /** with batching: the rows (leading dimension) all the inputs share */
  rows: number | undefined;
  outputs: RequestedOutput[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const formatShape = (shape: readonly unknown[]) => `[${shape.join(',')}]`;
const signature = (t: ServedTensor) => `${t.name} (${DATATYPE_OF[t.dtype]}${formatShape(t.shape)})`;

export function parseInferRequest(model: ServedSignature, json: unknown, binary: Uint8Array): ParsedInfer {
  if (!isObject(json)) throw badRequest(`the request must be a JSON object, got ${typeName(json)}`);
  const id = json.id;
  if (id !== undefined && typeof id !== 'string')
    throw badRequest(`"id" must be a string, got ${typeName(id)}`);
  const parameters = optionalParameters('the request', json.parameters);
  if (!Array.isArray(json.inputs))
    throw badRequest(`"inputs" must be an array of tensors, got ${typeName(json.inputs)}`);

  const feeds: Record<string, Tensor> = {};
  let rows: { count: number; input: string } | undefined;
  let offset = 0;
  json.inputs.forEach((input: unknown, i) => {
    const where = `inputs[${i}]`;
    if (!isObject(input)) throw badRequest(`${where} must be an object, got ${typeName(input)}`);
    if (typeof input.name !== 'string') throw badRequest(`${where}: "name" must be a string`);
    const info = model.inputs.find((t) => t.name === input.name);
    if (!info)
      throw badRequest(
        `${where}: model "${model.name}" has no input "${input.name}" (its inputs: ${model.inputs.map(signature).join(', ')})`,
      );
    if (Object.hasOwn(feeds, info.name)) throw badRequest(`input "${info.name}" is given twice`);
    const binarySize = optionalParameters(`input "${info.name}"`, input.parameters).binary_data_size;
    const dims = checkDeclared(info, input, model);
    if (model.maxBatch !== undefined) {
      rows ??= { count: dims[0], input: info.name };
      if (dims[0] !== rows.count)
        throw badRequest(
          `the inputs disagree on the batch size: "${rows.input}" has ${rows.count} rows but "${info.name}" has ${dims[0]}`,
        );
    }
    const data =
      binarySize === undefined
        ? jsonTensor(info, dims, input)
        : binaryTensor(info, dims, input, binarySize, binary.subarray(offset), offset);
    if (binarySize !== undefined) offset += binarySize as number;
    feeds[info.name] = { dtype: info.dtype, dims, data };
  });
  for (const info of model.inputs)
    if (!Object.hasOwn(feeds, info.name))
      throw badRequest(`input "${info.name}" is missing (expected ${signature(info)})`);
  if (offset !== binary.byteLength)
    throw badRequest(
      `the binary section has ${binary.byteLength} bytes but the inputs' binary_data_size add up to ${offset}`,
    );
  return {
    id,
    feeds,
    rows: rows?.count,
    outputs: requestedOutputs(model, json.outputs, parameters.binary_data_output),
  };
}

function optionalParameters(where: string, parameters: unknown): Json {
  if (parameters === undefined) return {};
  if (!isObject(parameters))
    throw badRequest(`${where}: "parameters" must be an object, got ${typeName(parameters)}`);
  return parameters;
}

/**
 * The shape an input declares, after checking it and the datatype against the model's signature; a
 * BATCH_DIM there accepts 1..maxBatch rows.
 */
function checkDeclared(info: ServedTensor, input: Json, model: ServedSignature): number[] {
  const where = `input "${info.name}"`;
  const expected = DATATYPE_OF[info.dtype];
  if (typeof input.datatype !== 'string' || !PROTOCOL_DATATYPES.includes(input.datatype))
    throw badRequest(
      `${where}: "datatype" must be one of ${PROTOCOL_DATATYPES.join(', ')}, got ${quoted(input.datatype)}`,
    );
  if (input.datatype === 'BYTES')
    throw badRequest(`${where}: BYTES tensors are not supported (the model expects ${expected})`);
  if (input.datatype !== expected)
    throw badRequest(`${where} has datatype ${input.datatype} but the model expects ${expected}`);
  const shape = input.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw badRequest(`${where}: "shape" must be an array of non-negative integers, got ${quoted(shape)}`);
  if (
    shape.length !== info.shape.length ||
    shape.some((d, k) => info.shape[k] !== BATCH_DIM && d !== info.shape[k])
  )
    throw badRequest(
      `${where} has shape ${formatShape(shape)} but the model expects ${formatShape(info.shape)}`,
    );
  if (
    model.maxBatch !== undefined &&
    info.shape[0] === BATCH_DIM &&
    (shape[0] < 1 || shape[0] > model.maxBatch)
  )
    throw badRequest(
      `${where} has ${shape[0]} rows but model "${model.name}" takes 1 to ${model.maxBatch} rows per request (its max batch)${shape[0] > 1 ? '; split the request' : ''}`,
    );
  return shape;
}

function jsonTensor(info: ServedTensor, dims: number[], input: Json) {
  const where = `input "${info.name}"`;
  if (input.data === undefined)
    throw badRequest(
      `${where} has no "data" (give it, or parameters.binary_data_size with the binary extension)`,
    );
  const values = flattenData(where, input.data);
  const count = elementCount(dims);
  if (values.length !== count)
    throw badRequest(`${where} has ${values.length} elements but shape ${formatShape(dims)} needs ${count}`);
  return typedFromValues(where, info.dtype, values, badRequest);
}

function binaryTensor(
  info: ServedTensor,
  dims: number[],
  input: Json,
  size: unknown,
  rest: Uint8Array,
  offset: number,
) {
  const where = `input "${info.name}"`;
  if (input.data !== undefined) throw badRequest(`${where} has both "data" and binary_data_size; give one`);
  const needed = elementCount(dims) * elementBytes(info.dtype as NumericDType);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
    throw badRequest(`${where}: binary_data_size must be a non-negative integer, got ${quoted(size)}`);
  if (size !== needed)
    throw badRequest(
      `${where} has binary_data_size ${size} but ${DATATYPE_OF[info.dtype]}${formatShape(dims)} is ${needed} bytes`,
    );
  if (size > rest.byteLength)
    throw badRequest(
      `${where} has binary_data_size ${size} but only ${rest.byteLength} bytes follow the JSON header after byte ${offset} of the binary section`,
    );
  return typedFromBytes(info.dtype, rest.subarray(0, size));
}

/** The outputs to return (all by default) and whether each goes binary. */
function requestedOutputs(
  model: ServedSignature,
  outputs: unknown,
  binaryDefault: unknown,
): RequestedOutput[] {
  if (binaryDefault !== undefined && typeof binaryDefault !== 'boolean')
    throw badRequest(`parameters.binary_data_output must be true or false, got ${quoted(binaryDefault)}`);
  const allBinary = binaryDefault === true;
  if (outputs === undefined) return model.outputs.map(({ name }) => ({ name, binary: allBinary }));
  if (!Array.isArray(outputs)) throw badRequest(`"outputs" must be an array, got ${typeName(outputs)}`);
  const seen = new Set<string>();
  return outputs.map((output: unknown, i) => {
    if (!isObject(output) || typeof output.name !== 'string')
      throw badRequest(`outputs[${i}] must be an object with a string "name"`);
    const { name } = output;
    if (!model.outputs.some((t) => t.name === name))
      throw badRequest(
        `outputs[${i}]: model "${model.name}" has no output "${name}" (its outputs: ${model.outputs.map(signature).join(', ')})`,
      );
    if (seen.has(name)) throw badRequest(`output "${name}" is requested twice`);
    seen.add(name);
    const binary = optionalParameters(`output "${name}"`, output.parameters).binary_data;
    if (binary !== undefined && typeof binary !== 'boolean')
      throw badRequest(
        `output "${name}": parameters.binary_data must be true or false, got ${quoted(binary)}`,
      );
    return { name, binary: binary ?? allBinary };
  });
}

export interface InferResponse {
  /** the JSON document (the whole body, or the header before the binary outputs) */
  header: Json;
  /** binary outputs in the order of the header's outputs; empty for a plain JSON response */
  binary: Uint8Array[];
}

export function buildInferResponse(
  served: { name: string; version?: string },
  id: string,
  requested: readonly RequestedOutput[],
  results: Record<string, Tensor>,
): InferResponse {
  const binary: Uint8Array[] = [];
  const outputs = requested.map(({ name, binary: asBinary }) => {
    const tensor = results[name];
    const common = { name, shape: tensor.dims, datatype: DATATYPE_OF[tensor.dtype] };
    if (!asBinary) return { ...common, data: jsonFromTyped(tensor.dtype, tensor.data) };
    const bytes = bytesOfTyped(tensor.data);
    binary.push(bytes);
    return { ...common, parameters: { binary_data_size: bytes.byteLength } };
  });
  const header: Json = { model_name: served.name };
  if (served.version !== undefined) header.model_version = served.version;
  return { header: { ...header, id, outputs }, binary };
}
