/**
 * The Node adapter: the serving app on @hono/node-server, with a graceful stop that refuses new work
 * (ready → 503), lets in-flight requests finish, then closes. Wiring only; the logic is in app.ts.
 */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
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
  /** stops accepting, waits for in-flight requests (up to the drain timeout), then resolves */
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
    // a keep-alive connection whose last request finishes during a stop would hold close() open
    server.on('request', (_req, res) =>
      res.once('finish', () => {
        if (stopping) setImmediate(() => server.closeIdleConnections());
      }),
    );
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      let closed: Promise<void> | undefined;
      const close = () => {
        stopping = true;
        closed ??= new Promise<void>((done) => {
          const cutoff = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
          server.close(() => {
            clearTimeout(cutoff);
            done();
          });
          server.closeIdleConnections();
        });
        return closed;
      };
      resolve({ url: `http://${host}:${port}`, port, close });
    });
  });
}
