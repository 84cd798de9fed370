/**
 * Text from a model or a request (op types, node, dim and input names, model names) made safe to print:
 * its control characters — C0 (newline, carriage return, ESC, which starts every terminal escape
 * sequence), DEL and C1 (0x9b is a one-byte CSI on some terminals) — become visible escapes such as
 * `\x1b`, so a model cannot clear the screen, overwrite a line or print a fake "compiled OK". Other
 * Unicode is kept. Every message and log line that quotes such text goes through these.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written as an escape (`\n`, `\r`, `\t`, else `\xHH`). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * `JSON.stringify(value)` with no raw control character in it: JSON.stringify escapes C0 but leaves DEL
 * and C1 as they are; those can only occur inside strings, where `\u00HH` is the same JSON value.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
