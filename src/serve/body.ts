/**
 * Reading a request body under a size limit, and splitting the binary tensor extension's body into
 * its JSON header and binary section.
 */
import { badRequest, HttpError } from './http-error.js';

export const HEADER_LENGTH = 'Inference-Header-Content-Length';

/** Without `stream`, decode() keeps no state between calls, so one decoder serves every request. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

const tooLarge = (maxBytes: number, what: string) =>
  new HttpError(413, `request body ${what} the limit of ${maxBytes} bytes`);

/**
 * The body's bytes; refuses a declared Content-Length over the limit before reading, and stops reading
 * past it. A body with a declared length is read whole with arrayBuffer(), which @hono/node-server
 * serves straight from the socket without a web stream (~0.2 ms less per request); only a chunked
 * body is streamed, to stop at the limit.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes)
    throw tooLarge(maxBytes, `(${declared} bytes) exceeds`);
  // first, without touching request.body: on @hono/node-server that getter alone builds the web stream
  if (declared !== null) {
    // the transport frames the body by its Content-Length; re-checked for targets whose events carry
    // headers apart from the body (Lambda)
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > maxBytes) throw tooLarge(maxBytes, `(${body.byteLength} bytes) exceeds`);
    return body;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes, 'exceeds');
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** The JSON header and the binary section after it (empty without the extension's header). */
export function splitBody(
  body: Uint8Array,
  headerLength: string | null,
): { json: unknown; binary: Uint8Array } {
  let jsonBytes = body;
  let binary: Uint8Array = new Uint8Array(0);
  if (headerLength !== null) {
    const n = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || n > body.byteLength)
      throw badRequest(
        `${HEADER_LENGTH} is "${headerLength}" but must be a whole number of bytes no larger than the body (${body.byteLength} bytes)`,
      );
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  let text: string;
  try {
    text = utf8.decode(jsonBytes);
  } catch {
    throw badRequest('the request JSON is not valid UTF-8');
  }
  try {
    return { json: JSON.parse(text), binary };
  } catch (err) {
    const hint =
      headerLength === null ? '' : ` (the first ${jsonBytes.byteLength} bytes, per ${HEADER_LENGTH})`;
    throw badRequest(`the request body${hint} is not valid JSON: ${(err as Error).message}`);
  }
}
