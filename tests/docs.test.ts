/**
 * The shipped docs stand on their own: every local link in README.md and docs/ points at a file the npm
 * package ships, and every repository path docs/architecture.md names exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const shipped: string[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files;
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)];

/** The local targets of a Markdown file's links, relative to the repository root. */
function localLinks(doc: string): string[] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1].split('#')[0])
    .filter((target) => target !== '' && !/^[a-z]+:/.test(target))
    .map((target) => relative(ROOT, resolve(dirname(join(ROOT, doc)), target)));
}

describe('docs', () => {
  it.each(DOCS)('%s links only to files the package ships', (doc) => {
    expect(shipped).toContain(doc.split('/')[0]);
    for (const target of localLinks(doc)) {
      expect(existsSync(join(ROOT, target)), `${doc} → ${target}`).toBe(true);
      expect(shipped, `${doc} → ${target}`).toContain(target.split('/')[0]);
    }
  });

  it('docs/architecture.md names only paths that exist', () => {
    const text = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const paths = [...text.matchAll(/`((?:src|workers|cdk|bin|scripts|tests|docs)\/[\w./-]*)`/g)].map(
      (m) => m[1],
    );
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });
});
