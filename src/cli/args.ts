/** Parsing of the CLI's value syntaxes (`NAME=D0,D1`, `NAME=FILE`, counts), with usage errors that quote the argument. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_BATCH_DELAY_MS, type BatchingOptions } from '../serve/batching.js';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** node:util parseArgs, strict, with its errors turned into usage errors for `usage`. */
export function parseCommandArgs<O extends Options>(args: string[], options: O, usage: string): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
}

/** `NAME=VALUE`, split at the last '=' (input names may themselves contain '='). */
export function splitAssignment(flag: string, arg: string, usage: string): [string, string] {
  const at = arg.lastIndexOf('=');
  if (at <= 0) throw new UsageError(`${flag} expects NAME=VALUE, got "${arg}"`, usage);
  return [arg.slice(0, at), arg.slice(at + 1)];
}

/** A comma-separated list of numbers; `integers` also requires whole, non-negative values. */
export function parseNumberList(
  flag: string,
  arg: string,
  text: string,
  usage: string,
  integers: boolean,
): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const n = Number(part.trim());
    const ok = part.trim() !== '' && Number.isFinite(n) && (!integers || (Number.isInteger(n) && n >= 0));
    if (!ok)
      throw new UsageError(
        `${flag} "${arg}": "${part}" is not ${integers ? 'a non-negative integer' : 'a number'}`,
        usage,
      );
    return n;
  });
}

/** `MIN..MAX` or `MIN..MAX:STEP`, whole non-negative numbers, MIN ≤ MAX, STEP ≥ 1 dividing both. */
export function parseBounds(
  flag: string,
  arg: string,
  text: string,
  usage: string,
): { min: number; max: number; step?: number } {
  const m = /^\s*(\d+)\s*\.\.\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(text);
  const [min, max, step] = m
    ? [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])]
    : [NaN, NaN, NaN];
  if (!m || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max)
    throw new UsageError(
      `${flag} "${arg}": "${text}" is not MIN..MAX or MIN..MAX:STEP (whole numbers, MIN ≤ MAX)`,
      usage,
    );
  if (!Number.isSafeInteger(step) || step < 1 || min % step !== 0 || max % step !== 0)
    throw new UsageError(`${flag} "${arg}": STEP ${m[3]} must be ≥ 1 and divide MIN and MAX`, usage);
  return step === 1 ? { min, max } : { min, max, step };
}

/** `--shape` dims: each a fixed size (`48`) or bounds (`16..1024`). */
export function parseShapeList(
  arg: string,
  text: string,
  usage: string,
): ({ min: number; max: number; step?: number } | number)[] {
  if (text.trim() === '') return [];
  return text
    .split(',')
    .map((part) =>
      part.includes('..')
        ? parseBounds('--shape', arg, part, usage)
        : parseNumberList('--shape', arg, part, usage, true)[0],
    );
}

/** A whole number ≥ min from a flag value, defaulting when absent. */
export function parseCount(
  flag: string,
  text: string | undefined,
  dflt: number,
  min: number,
  usage: string,
): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer ≥ ${min}, got "${text}"`, usage);
  return n;
}

/** `--max-batch N [--batch-delay-ms D]` (kiln serve, kiln deploy); undefined without --max-batch. */
export function batchingOf(
  maxBatch: string | undefined,
  delayMs: string | undefined,
  usage: string,
): Required<BatchingOptions> | undefined {
  if (maxBatch === undefined) {
    if (delayMs !== undefined) throw new UsageError('--batch-delay-ms needs --max-batch', usage);
    return undefined;
  }
  return {
    maxBatch: parseCount('--max-batch', maxBatch, 1, 1, usage),
    delayMs: parseCount('--batch-delay-ms', delayMs, DEFAULT_BATCH_DELAY_MS, 0, usage),
  };
}

/** A value that must be one of `choices`. */
export function parseChoice<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
  usage: string,
): T {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${text}"`, usage);
  return text as T;
}

/** Exactly one positional argument (the model file or bundle directory). */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.join(' ')}`,
      usage,
    );
  return positionals[0];
}
