import { printableJson } from '../text/printable.js';

/** One structured log entry per request. */
export interface RequestLog {
  time: string;
  request_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  model?: string;
  model_version?: string;
  error?: string;
}

export type RequestLogger = (entry: RequestLog) => void;

// Entries quote request data (paths, model names, errors naming inputs): `printableJson` leaves no raw
// control character in a log line.

/** One JSON line on stderr (console.error is stderr on Node and the log stream on Workers and Lambda). */
export const jsonLineLogger: RequestLogger = (entry) => console.error(printableJson(entry));

/**
 * One JSON line per entry, written off the request's path: entries wait until `defer` calls back
 * (setImmediate on Node, which runs after the response's bytes have gone to the socket) and then go out
 * in one write, so a burst of requests costs one write.
 */
export function deferredLineLogger(
  write: (lines: string) => void,
  defer: (flush: () => void) => void,
): RequestLogger {
  let pending: RequestLog[] = [];
  const flush = () => {
    const lines = pending.map((entry) => `${printableJson(entry)}\n`).join('');
    pending = [];
    write(lines);
  };
  return (entry) => {
    if (pending.push(entry) === 1) defer(flush);
  };
}
