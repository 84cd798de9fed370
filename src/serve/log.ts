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

/** One JSON line on stderr (console.error is stderr on Node and the log stream on Workers and Lambda). */
export const jsonLineLogger: RequestLogger = (entry) => console.error(JSON.stringify(entry));
