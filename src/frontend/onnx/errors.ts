/** Error helpers: every message is one line and names what was wrong where. */
import { printable } from '../../text/printable.js';

export const INVALID = 'invalid ONNX model: ';

/** An error the frontend raised on purpose; anything else escaping the decoder is wrapped as invalid input. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(printable(message.replace(/\s*[\r\n]+\s*/g, ' ')));
    this.name = 'OnnxModelError';
  }
}

/** A name from the model quoted for an error message: escaped (no control characters) and shortened. */
export function q(name: string | null | undefined): string {
  const s = name ?? '';
  return printable(JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s));
}

/** The model is structurally broken (undecodable, inconsistent, dangling references). */
export function invalid(message: string): OnnxModelError {
  return new OnnxModelError(INVALID + message);
}

/** Any other problem with the model: unsupported features, unreadable external data. */
export function fail(message: string): OnnxModelError {
  return new OnnxModelError(message);
}

/** Turn whatever was thrown into a one-line Error; internal failures on hostile input count as invalid. */
export function asModelError(e: unknown): Error {
  if (e instanceof OnnxModelError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/call stack/i.test(msg)) return invalid('nested too deeply');
  return invalid(msg || 'cannot be read');
}
