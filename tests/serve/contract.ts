/**
 * The serving contract, as cases shared by every runtime that serves the app: in-process
 * (`app.request`), over HTTP through the Node server, inside workerd (miniflare) and through the
 * Lambda handler. Each runtime serves the compiled mlp bundle as "mlp" with CONTRACT_ENV (bearer key,
 * 1 MiB body limit) and gives a `send` that speaks HTTP to it; expected values come from running the
 * same bundle in this process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeEnv } from '../../src/serve/env.js';
import { compileMlp, protocolValidators, ROOT, schemaErrors, type CompiledBundle } from './fixture.js';
import { binaryBody, readBinaryResponse } from './requests.js';

export type Send = (path: string, init?: RequestInit) => Promise<Response>;

export interface ServedTarget {
  send: Send;
  stop?(): Promise<void>;
}

export const API_KEY = 's3cret';
export const CONTRACT_ENV: Required<Pick<ServeEnv, 'KILN_API_KEY' | 'KILN_MAX_BODY_MB'>> = {
  KILN_API_KEY: API_KEY,
  KILN_MAX_BODY_MB: '1',
};

const INFER = '/v2/models/mlp/infer';
const X = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.37) * 2);
const input = (extra: object = {}) => ({ name: 'x', shape: [1, 64], datatype: 'FP32', data: X, ...extra });
const binaryInput = { name: 'x', shape: [1, 64], datatype: 'FP32', parameters: { binary_data_size: 256 } };

/**
 * An infer body whose input has `field` set to `raw` JSON text: nesting JSON.stringify cannot write
 * (it recurses), as a hostile client sends it.
 */
const rawInputBody = (field: string, raw: string) =>
  JSON.stringify({ inputs: [input({ [field]: '@' })] }).replace('"@"', raw);
const nested10k = (inner: string) => `${'['.repeat(10_000)}${inner}${']'.repeat(10_000)}`;

/** Bad JSON infer bodies: each a 400 whose error says what was wrong. */
export const badJsonBodies: [string, unknown, RegExp][] = [
  ['malformed JSON', '{"inputs": [', /request body is not valid JSON/],
  ['a JSON array', '[1, 2]', /must be a JSON object, got an array/],
  ['no inputs', {}, /"inputs" must be an array of tensors, got a undefined/],
  ['a non-string id', { id: 7, inputs: [input()] }, /"id" must be a string/],
  ['a missing input', { inputs: [] }, /input "x" is missing \(expected x \(FP32\[1,64\]\)\)/],
  [
    'an extra input',
    { inputs: [input(), input({ name: 'y' })] },
    /model "mlp" has no input "y" \(its inputs: x \(FP32\[1,64\]\)\)/,
  ],
  ['a misnamed input', { inputs: [input({ name: 'X' })] }, /has no input "X"/],
  ['an input given twice', { inputs: [input(), input()] }, /input "x" is given twice/],
  [
    'a wrong shape',
    { inputs: [input({ shape: [64] })] },
    /input "x" has shape \[64\] but the model expects \[1,64\]/,
  ],
  [
    'a bad shape',
    { inputs: [input({ shape: [1, -64] })] },
    /"shape" must be an array of non-negative integers/,
  ],
  [
    'a wrong datatype',
    { inputs: [input({ datatype: 'FP64' })] },
    /input "x" has datatype FP64 but the model expects FP32/,
  ],
  [
    'an unknown datatype',
    { inputs: [input({ datatype: 'FLOAT' })] },
    /"datatype" must be one of BOOL, .*, got "FLOAT"/,
  ],
  [
    'BYTES',
    { inputs: [input({ datatype: 'BYTES' })] },
    /BYTES tensors are not supported \(the model expects FP32\)/,
  ],
  [
    'too few elements',
    { inputs: [input({ data: X.slice(1) })] },
    /input "x" has 63 elements but shape \[1,64\] needs 64/,
  ],
  ['no data', { inputs: [input({ data: undefined })] }, /input "x" has no "data"/],
  ['data not an array', { inputs: [input({ data: 3 })] }, /"data" must be an array, got a number/],
  [
    'data nested 10,000 deep',
    rawInputBody('data', nested10k('1')),
    /^input "x": "data" nests arrays more than 64 deep$/,
  ],
  [
    'an element nested 10,000 deep in objects',
    rawInputBody('data', `[${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}${',0'.repeat(63)}]`),
    /input "x": element 0 is an object, expected a number/,
  ],
  [
    'a shape nested 10,000 deep',
    rawInputBody('shape', nested10k('1')),
    /input "x": "shape" must be an array of non-negative integers, got an array$/,
  ],
  [
    'a datatype nested 10,000 deep',
    rawInputBody('datatype', nested10k('"FP32"')),
    /input "x": "datatype" must be one of .*, got an array$/,
  ],
  [
    'a string element',
    { inputs: [input({ data: [...X.slice(0, 5), 'abc', ...X.slice(6)] })] },
    /element 5 is "abc", expected a number/,
  ],
  [
    'an unknown output',
    { inputs: [input()], outputs: [{ name: 'nope' }] },
    /has no output "nope" \(its outputs: probs \(FP32\[1,10\]\)\)/,
  ],
  [
    'an output twice',
    { inputs: [input()], outputs: [{ name: 'probs' }, { name: 'probs' }] },
    /output "probs" is requested twice/,
  ],
  [
    'a non-boolean binary_data',
    { inputs: [input()], outputs: [{ name: 'probs', parameters: { binary_data: 1 } }] },
    /binary_data must be true or false/,
  ],
  [
    'binary_data_size without a binary section',
    { inputs: [binaryInput] },
    /binary_data_size 256 but only 0 bytes follow/,
  ],
  [
    'both data and binary_data_size',
    { inputs: [{ ...binaryInput, data: X }] },
    /has both "data" and binary_data_size/,
  ],
];

/** Binary-extension bodies whose header and bytes disagree: each a 400. */
export const badBinaryBodies: [string, object, ArrayBufferView[], RegExp][] = [
  [
    'binary_data_size that disagrees with the shape',
    { inputs: [{ ...binaryInput, parameters: { binary_data_size: 252 } }] },
    [new Float32Array(63)],
    /binary_data_size 252 but FP32\[1,64\] is 256 bytes/,
  ],
  [
    'fewer bytes than binary_data_size',
    { inputs: [binaryInput] },
    [new Float32Array(60)],
    /only 240 bytes follow/,
  ],
  [
    'bytes after the last input',
    { inputs: [binaryInput] },
    [new Float32Array(65)],
    /binary section has 260 bytes but the inputs' binary_data_size add up to 256/,
  ],
  [
    'a negative binary_data_size',
    { inputs: [{ ...binaryInput, parameters: { binary_data_size: -1 } }] },
    [],
    /binary_data_size must be a non-negative integer/,
  ],
];

/** Inference-Header-Content-Length values that lie about the body (given the true header length). */
export const badHeaderLengths: [string, (n: number) => string, RegExp][] = [
  [
    'longer than the body',
    (n) => String(n + 1000),
    /Inference-Header-Content-Length is "\d+" but must be a whole number of bytes no larger than the body/,
  ],
  ['not a number', () => 'lots', /Inference-Header-Content-Length is "lots"/],
  [
    'cutting the JSON short',
    (n) => String(n - 2),
    /the first \d+ bytes, per Inference-Header-Content-Length\) is not valid JSON/,
  ],
];

export const unknownTargets: [string, string, RegExp][] = [
  ['GET', '/v2/models/nope', /unknown model "nope" \(served models: "mlp"\)/],
  ['GET', '/v2/models/nope/ready', /unknown model "nope"/],
  ['POST', '/v2/models/nope/infer', /unknown model "nope"/],
  ['GET', '/v2/models/mlp/versions/7', /model "mlp" has no version "7" \(versions: none\)/],
  ['POST', '/v2/models/mlp/versions/7/infer', /model "mlp" has no version "7"/],
  ['GET', '/v3/health', /no endpoint GET \/v3\/health/],
];

export const badAuthorizations: [string, string | undefined, RegExp][] = [
  ['no Authorization header', undefined, /missing Authorization header/],
  ['a wrong key', 'Bearer nope', /wrong API key/],
  ['a key that only starts right', `Bearer ${API_KEY}!`, /wrong API key/],
  ['another scheme', 'Basic czNjcmV0', /must be "Bearer <API key>"/],
];

/**
 * Defines the contract cases for one runtime. `serve` starts the runtime on the compiled mlp bundle
 * (served as "mlp", with CONTRACT_ENV); it runs once, before the cases.
 */
export function describeContract(runtime: string, serve: (mlp: CompiledBundle) => Promise<ServedTarget>) {
  describe(`serving contract: ${runtime}`, () => {
    let mlp: CompiledBundle;
    let target: ServedTarget;
    let schemas: Record<string, ValidateFunction>;
    let expected: number[];

    beforeAll(async () => {
      [mlp, schemas] = await Promise.all([compileMlp(), protocolValidators()]);
      const feeds = { x: { dtype: 'float32' as const, dims: [1, 64], data: Float32Array.from(X) } };
      expected = Array.from((await mlp.model.run(feeds)).probs.data as Float32Array);
      target = await serve(mlp);
    });
    afterAll(async () => {
      await target?.stop?.();
      await mlp?.cleanup();
    });

    /** Sends with the right bearer key unless the headers say otherwise. */
    const send = (path: string, init: RequestInit = {}) =>
      target.send(path, {
        ...init,
        headers: { Authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string>) },
      });
    const postJson = (path: string, body: unknown) =>
      send(path, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
      });
    const postBinary = (header: unknown, parts: ArrayBufferView[], headerLength?: (n: number) => string) => {
      const { body, headerLength: length } = binaryBody(header, parts);
      return send(INFER, {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/octet-stream',
          'Inference-Header-Content-Length': headerLength ? headerLength(length) : String(length),
        },
      });
    };

    async function expectError(response: Response, status: number, message: RegExp) {
      const text = await response.text();
      expect(response.status, text).toBe(status);
      const body = JSON.parse(text);
      expect(schemaErrors(schemas.inference_error_response, body)).toBe('');
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toMatch(message);
    }

    /** A good request after a bad one: the model still answers, exactly. */
    async function expectServing() {
      const response = await postJson(INFER, { inputs: [input()] });
      expect(response.status).toBe(200);
      expect((await response.json()).outputs[0].data).toEqual(expected);
    }

    it('health live and ready answer 200 without a key', async () => {
      for (const path of ['/v2/health/live', '/v2/health/ready']) {
        const response = await target.send(path);
        expect(response.status, path).toBe(200);
      }
      expect(await (await target.send('/v2/health/live')).json()).toEqual({ live: true });
    });

    it('server and model metadata', async () => {
      const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
      const server = await (await send('/v2')).json();
      expect(schemaErrors(schemas.metadata_server_response, server)).toBe('');
      expect(server).toEqual({ name: 'kiln', version, extensions: ['binary_tensor_data'] });
      const model = await (await send('/v2/models/mlp')).json();
      expect(schemaErrors(schemas.metadata_model_response, model)).toBe('');
      expect(model).toEqual({
        name: 'mlp',
        versions: [],
        platform: 'kiln-wasm',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64] }],
        outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 10] }],
      });
      expect(await (await send('/v2/models/mlp/ready')).json()).toEqual({ name: 'mlp', ready: true });
    });

    it('JSON infer returns exactly what the runtime computes, with the request id', async () => {
      const response = await postJson(INFER, { id: 'req-7', inputs: [input()] });
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
      const body = await response.json();
      expect(schemaErrors(schemas.inference_response, body)).toBe('');
      expect(body).toEqual({
        model_name: 'mlp',
        id: 'req-7',
        outputs: [{ name: 'probs', shape: [1, 10], datatype: 'FP32', data: expected }],
      });
    });

    it('binary infer carries exactly the runtime bytes', async () => {
      const header = {
        inputs: [binaryInput],
        outputs: [{ name: 'probs', parameters: { binary_data: true } }],
      };
      const response = await postBinary(header, [Float32Array.from(X)]);
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toBe('application/octet-stream');
      const { header: out, binary } = await readBinaryResponse(response);
      expect(schemaErrors(schemas.binary_inference_response, out)).toBe('');
      expect(out.outputs).toEqual([
        { name: 'probs', shape: [1, 10], datatype: 'FP32', parameters: { binary_data_size: 40 } },
      ]);
      expect(Array.from(new Float32Array(binary.probs.buffer))).toEqual(expected);
    });

    it('metrics count the requests', async () => {
      const response = await send('/metrics');
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^kiln_inference_requests_total\{model="mlp"[^}]*\} [1-9]\d*$/m);
    });

    it.each(badJsonBodies)('400 for %s, then serves', async (_, body, message) => {
      await expectError(await postJson(INFER, body), 400, message);
      await expectServing();
    });

    it.each(badBinaryBodies)('400 for binary %s, then serves', async (_, header, parts, message) => {
      await expectError(await postBinary(header, parts), 400, message);
      await expectServing();
    });

    it.each(badHeaderLengths)('400 for an Inference-Header-Content-Length %s', async (_, length, message) => {
      await expectError(
        await postBinary({ inputs: [binaryInput] }, [new Float32Array(64)], length),
        400,
        message,
      );
      await expectServing();
    });

    it.each(unknownTargets)('404 for %s %s', async (method, path, message) => {
      const body = method === 'POST' ? JSON.stringify({ inputs: [input()] }) : undefined;
      await expectError(await send(path, { method, body }), 404, message);
    });

    it('413 for a body over the limit, then serves', async () => {
      const big = new Uint8Array(1024 * 1024 + 1).fill(0x20);
      const response = await send(INFER, {
        method: 'POST',
        body: big,
        headers: { 'Content-Type': 'application/json' },
      });
      await expectError(
        response,
        413,
        /request body (\(1048577 bytes\) )?exceeds the limit of 1048576 bytes/,
      );
      await expectServing();
    });

    it.each(badAuthorizations)('401 for %s, then serves', async (_, authorization, message) => {
      for (const [method, path] of [
        ['POST', INFER],
        ['GET', '/v2'],
        ['GET', '/v2/models/mlp'],
        ['GET', '/metrics'],
      ]) {
        const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
        const body = method === 'POST' ? JSON.stringify({ inputs: [input()] }) : undefined;
        const response = await target.send(path, { method, body, headers });
        expect(response.headers.get('WWW-Authenticate')).toBe('Bearer');
        await expectError(response, 401, message);
      }
      await expectServing();
    });
  });
}
