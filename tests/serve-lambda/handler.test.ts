/** The serving contract through the Lambda handler, on Function URL and API Gateway v2 events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFromEnv } from '../../src/serve/env.js';
import { createLambdaHandler, type LambdaHandler } from '../../src/serve/lambda.js';
import { CONTRACT_ENV, describeContract } from '../serve/contract.js';
import { describeEmbeddingsContract } from '../serve/embeddings-contract.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';
import { readBinaryResponse } from '../serve/requests.js';
import { eventFor, readEvent, responseOf } from './events.js';

const handlerFor = (mlp: CompiledBundle) =>
  createLambdaHandler({
    models: [{ name: 'mlp', model: mlp.model }],
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });

for (const name of ['function-url', 'api-gateway-v2'] as const) {
  describeContract(`Lambda handler, ${name} events`, async (mlp) => {
    const handler = handlerFor(mlp);
    const template = readEvent(name);
    return { send: async (path, init) => responseOf(await handler(eventFor(template, path, init))) };
  });
}

for (const name of ['function-url', 'api-gateway-v2'] as const)
  describeEmbeddingsContract(`Lambda handler, ${name} events`, async (text) => {
    const handler = createLambdaHandler({
      models: [{ name: 'text', model: text.model }],
      log: false,
      ...optionsFromEnv(CONTRACT_ENV),
    });
    const template = readEvent(name);
    return { send: async (path, init) => responseOf(await handler(eventFor(template, path, init))) };
  });

describe('recorded Lambda events', () => {
  let mlp: CompiledBundle;
  let handler: LambdaHandler;
  const expectedFor = async (x: number[]) =>
    Array.from(
      (await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(x) } })).probs
        .data as Float32Array,
    );

  beforeAll(async () => {
    mlp = await compileMlp();
    handler = handlerFor(mlp);
  });
  afterAll(() => mlp?.cleanup());

  it('a Function URL JSON infer', async () => {
    const event = readEvent('function-url');
    const result = await handler(event);
    expect(result.isBase64Encoded).toBe(false);
    const body = JSON.parse(result.body);
    expect(result.statusCode, result.body).toBe(200);
    const x = JSON.parse(event.body!).inputs[0].data;
    expect(body).toEqual({
      model_name: 'mlp',
      id: 'fn-url-1',
      outputs: [{ name: 'probs', shape: [1, 10], datatype: 'FP32', data: await expectedFor(x) }],
    });
  });

  it('an API Gateway v2 binary infer (base64 in, base64 out)', async () => {
    const event = readEvent('api-gateway-v2');
    const result = await handler(event);
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    const request = Buffer.from(event.body!, 'base64');
    const headerLength = Number(event.headers['inference-header-content-length'] ?? 'missing');
    const x = new Float32Array(
      request.buffer.slice(request.byteOffset + headerLength, request.byteOffset + request.byteLength),
    );
    const { header, binary } = await readBinaryResponse(responseOf(result));
    expect(header.id).toBe('apigw-1');
    expect(Array.from(new Float32Array(binary.probs.buffer))).toEqual(await expectedFor(Array.from(x)));
  });
});
