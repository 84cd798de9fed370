/**
 * The Node adapter: the serving app on @hono/node-server, with limits on what clients may hold, and
 * a graceful stop that refuses new work (503, Connection: close), lets in-flight requests finish,
 * then closes. Wiring only; the logic is in app.ts.
 */
import { serve } from '@hono/node-server';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppOptions } from './app.js';
import { deferredLineLogger } from './log.js';

/**
 * What a client may hold: how long it may take to send a request's head, and the whole request, how
 * long a kept-alive connection may sit idle, and how many connections may be open at once (past that,
 * new ones are closed at once). Slow clients are cut off (408) instead of holding connections.
 */
export interface ConnectionLimits {
  headerTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 5_000,
  maxConnections: 1000,
};

export interface NodeServerOptions extends Omit<AppOptions, 'notReady'>, Partial<ConnectionLimits> {
  port: number;
  host: string;
  /** how long a stop waits for in-flight requests before cutting connections; default 10 s */
  drainTimeoutMs?: number;
}

export interface NodeServer {
  /** e.g. http://127.0.0.1:8080 (the bound port, when 0 was asked for) */
  url: string;
  port: number;
  /**
   * waits for in-flight requests (up to the drain timeout), meanwhile answering new work 503 with
   * Connection: close; then stops listening and resolves
   */
  close(): Promise<void>;
}

export function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  let stopping = false;
  const app = createApp({
    ...options,
    log: options.log ?? deferredLineLogger((lines) => process.stderr.write(lines), setImmediate),
    notReady: () => (stopping ? 'the server is shutting down' : undefined),
  });
  const limits: ConnectionLimits = {
    headerTimeoutMs: options.headerTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.headerTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.idleTimeoutMs,
    maxConnections: options.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
  };
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      port: options.port,
      hostname: options.host,
      serverOptions: {
        headersTimeout: limits.headerTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.idleTimeoutMs,
        // Node checks the header and request timeouts this often (its default, 30 s, would let a
        // slow client hold a connection that much longer than the timeout)
        connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
      },
    }) as Server;
    server.maxConnections = limits.maxConnections;
    server.once('error', reject);
    /** responses to the requests that arrived before a stop: the stop waits for them */
    const inFlight = new Set<ServerResponse>();
    let onDrained: (() => void) | undefined;
    // before the app's own listener, so the header is set before the app answers
    server.prependListener('request', (_req, res) => {
      if (stopping) {
        res.setHeader('Connection', 'close');
        return;
      }
      inFlight.add(res);
      res.once('close', () => {
        inFlight.delete(res);
        if (inFlight.size === 0) onDrained?.();
      });
    });
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      let closed: Promise<void> | undefined;
      /**
       * Until the requests in flight are done the server keeps its connections and keeps listening, so
       * that a request sent meanwhile (on a kept-alive connection, or a new one) is answered, 503 for
       * new work, with Connection: close, instead of meeting a closed socket; then it stops listening
       * and closes the idle connections.
       */
      const close = () => {
        stopping = true;
        closed ??= new Promise<void>((done) => {
          for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
          const cutoff = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
          onDrained = () =>
            server.close(() => {
              clearTimeout(cutoff);
              done();
            });
          if (inFlight.size === 0) onDrained();
        });
        return closed;
      };
      resolve({ url: `http://${host}:${port}`, port, close });
    });
  });
}
