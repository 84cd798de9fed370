/**
 * Lambda events from HTTP requests and HTTP responses from Lambda results, on the recorded event
 * shapes in events/ (a Function URL request and an API Gateway HTTP API payload 2.0 request).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiGatewayRequestContextV2 } from 'hono/aws-lambda';
import type { LambdaHandler } from '../../src/serve/lambda.js';

/** Function URL and API Gateway HTTP API events share the payload 2.0 shape. */
export type LambdaEvent = Extract<
  Parameters<LambdaHandler>[0],
  { rawPath: string; requestContext: ApiGatewayRequestContextV2 }
>;
export type LambdaResult = Awaited<ReturnType<LambdaHandler>>;

export const readEvent = (name: 'function-url' | 'api-gateway-v2'): LambdaEvent =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'events', `${name}.json`), 'utf8'));

/** The template event with this request's method, path, headers and body (base64 when bytes, as AWS sends them). */
export function eventFor(template: LambdaEvent, path: string, init: RequestInit = {}): LambdaEvent {
  const event = structuredClone(template);
  const method = init.method ?? 'GET';
  event.rawPath = path;
  event.requestContext.http = { ...event.requestContext.http, method, path };
  if (event.pathParameters) event.pathParameters = { proxy: path.slice(1) };
  const headers: Record<string, string> = { host: event.requestContext.domainName, accept: '*/*' };
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  const { body } = init;
  if (body === undefined || body === null) {
    event.body = null;
    event.isBase64Encoded = false;
  } else if (typeof body === 'string') {
    event.body = body;
    event.isBase64Encoded = false;
    headers['content-length'] = String(new TextEncoder().encode(body).byteLength);
  } else if (body instanceof Uint8Array) {
    event.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
    event.isBase64Encoded = true;
    headers['content-length'] = String(body.byteLength);
  } else throw new Error(`eventFor: unsupported body type ${Object.prototype.toString.call(body)}`);
  event.headers = headers;
  return event;
}

export function responseOf(result: LambdaResult): Response {
  const { body, isBase64Encoded, statusCode } = result;
  const headers = 'headers' in result ? (result.headers as Record<string, string>) : {};
  return new Response(isBase64Encoded ? Buffer.from(body, 'base64') : body, { status: statusCode, headers });
}
