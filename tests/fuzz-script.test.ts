/**
 * `npm run fuzz` (scripts/fuzz.ts) kept from rotting: a tiny run of each campaign through the real
 * script, whose report must account for every case it was asked for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { isBug, OUTCOMES, type CaseResult } from '../scripts/fuzz/outcomes.js';

const ROOT = resolve(import.meta.dirname, '..');

it('npm run fuzz runs every campaign and reports each case once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-fuzz-test-'));
  try {
    const json = join(dir, 'report.json');
    const args = ['--import', 'tsx', 'scripts/fuzz.ts', '--seed', '7', '--models', '5', '--requests', '5'];
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(
        process.execPath,
        [...args, '--bundles', '5', '--slow-ms', '2000', '--json', json],
        { cwd: ROOT },
        (err, stdout) => done({ code: err ? Number(err.code) : 0, stdout }),
      ),
    );
    const report = JSON.parse(await readFile(json, 'utf8')) as Record<string, CaseResult[]> & {
      seed: number;
    };
    expect(report.seed).toBe(7);
    for (const campaign of ['models', 'requests', 'bundles']) {
      const cases = report[campaign];
      expect(cases.map((c) => c.id).sort(), campaign).toEqual(
        Array.from({ length: 5 }, (_, i) => `${campaign} #${i}`).sort(),
      );
      for (const c of cases) {
        expect(OUTCOMES, c.id).toContain(c.outcome);
        expect(c.kind.length, c.id).toBeGreaterThan(0);
        expect(c.detail.length, c.id).toBeGreaterThan(0);
      }
      const row = new RegExp(`^\\| ${campaign} \\| 5 \\|`, 'm');
      expect(stdout).toMatch(row);
    }
    const bugs = ['models', 'requests', 'bundles'].flatMap((c) => report[c]).filter((c) => isBug(c.outcome));
    expect(code).toBe(bugs.length > 0 ? 1 : 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);
