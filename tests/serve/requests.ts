/** Building and reading Open Inference Protocol requests in the serving tests. */
import type { Hono } from 'hono';

type App = Pick<Hono, 'request'>;

export function postJson(app: App, path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A binary-extension body: the JSON header, then `parts` back to back. */
export function binaryBody(
  header: unknown,
  parts: ArrayBufferView[],
): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = parts.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  const body = new Uint8Array(json.byteLength + bytes.reduce((n, b) => n + b.byteLength, 0));
  body.set(json);
  let at = json.byteLength;
  for (const b of bytes) {
    body.set(b, at);
    at += b.byteLength;
  }
  return { body, headerLength: json.byteLength };
}

export function postBinary(app: App, path: string, header: unknown, parts: ArrayBufferView[], extra = {}) {
  const { body, headerLength } = binaryBody(header, parts);
  return app.request(path, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Inference-Header-Content-Length': String(headerLength),
      ...extra,
    },
  });
}

export interface BinaryResponse {
  header: {
    model_name: string;
    model_version?: string;
    id: string;
    outputs: {
      name: string;
      shape: number[];
      datatype: string;
      data?: unknown[];
      parameters?: { binary_data_size?: number };
    }[];
  };
  /** each binary output's bytes by name */
  binary: Record<string, Uint8Array>;
}

/** Splits a response with the binary extension into its JSON header and each output's bytes. */
export async function readBinaryResponse(response: Response): Promise<BinaryResponse> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headerLength = Number(response.headers.get('Inference-Header-Content-Length'));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)));
  const binary: Record<string, Uint8Array> = {};
  let at = headerLength;
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    binary[output.name] = bytes.slice(at, at + size);
    at += size;
  }
  if (at !== bytes.byteLength)
    throw new Error(`response has ${bytes.byteLength - at} bytes after its outputs`);
  return { header, binary };
}
