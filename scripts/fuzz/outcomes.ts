/** What a fuzz case can end in, how an error is judged, and the per-campaign tally `npm run fuzz` prints. */

export const OUTCOMES = [
  'success',
  'clear error',
  'unclear error',
  'wrong output',
  '5xx',
  'crash',
  'hang',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The outcomes that mean a bug: everything but a success and a clear refusal. */
export const isBug = (outcome: Outcome) => outcome !== 'success' && outcome !== 'clear error';

export interface CaseResult {
  /** e.g. `models #12` */
  id: string;
  /** the mutation or request kind */
  kind: string;
  outcome: Outcome;
  /** the message, status or reason, one line */
  detail: string;
}

/** The engine's own error types: a message from one of them is an internal failure, not an explanation. */
const INTERNAL_ERRORS = [
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'RuntimeError',
  'InternalError',
];

/** An error a user can act on: a named error type of Kiln's or a plain Error, with one non-empty line. */
export function judgeError(err: unknown): { outcome: Outcome; detail: string } {
  if (!(err instanceof Error))
    return { outcome: 'unclear error', detail: `non-Error thrown: ${oneLine(String(err))}` };
  const clear =
    !INTERNAL_ERRORS.includes(err.name) && err.message.trim() !== '' && !/[\r\n]/.test(err.message);
  return { outcome: clear ? 'clear error' : 'unclear error', detail: `${err.name}: ${oneLine(err.message)}` };
}

/** The text on one line, control characters escaped (a model's names may hold any bytes), cut at `max`. */
export const oneLine = (text: string, max = 200) => {
  const flat = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

/** Counts per campaign and outcome, and the first few cases of each bug outcome. */
export class Tally {
  private readonly results = new Map<string, CaseResult[]>();

  add(campaign: string, result: CaseResult): void {
    const list = this.results.get(campaign) ?? [];
    list.push(result);
    this.results.set(campaign, list);
  }

  get bugs(): number {
    return [...this.results.values()].flat().filter((r) => isBug(r.outcome)).length;
  }

  /** A Markdown table of counts, then up to `examples` cases of each bug outcome per campaign. */
  report(examples = 5): string {
    const lines = [
      `| campaign | cases | ${OUTCOMES.join(' | ')} |`,
      `| --- | --- | ${OUTCOMES.map(() => '---').join(' | ')} |`,
    ];
    for (const [campaign, list] of this.results)
      lines.push(
        `| ${campaign} | ${list.length} | ${OUTCOMES.map((o) => list.filter((r) => r.outcome === o).length).join(' | ')} |`,
      );
    for (const [campaign, list] of this.results)
      for (const outcome of OUTCOMES.filter(isBug)) {
        const cases = list.filter((r) => r.outcome === outcome);
        if (cases.length === 0) continue;
        lines.push('', `${campaign}: ${cases.length} ${outcome}`);
        for (const r of cases.slice(0, examples)) lines.push(`  ${r.id} (${r.kind}): ${r.detail}`);
      }
    return lines.join('\n');
  }

  toJSON() {
    return Object.fromEntries(this.results);
  }
}
