/** DESIGN.md §2 dependency rules, checked by scanning imports, and the runtime's size budget. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const SRC = resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Value imports (type-only imports vanish at build time) of a file, as src-relative paths. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms))
    out.push(relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
  for (const m of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g))
    out.push(relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
  return out;
}

const folderOf = (p: string) => p.split('/')[0];

/** Which src folders each folder may import (itself always). */
const ALLOWED: Record<string, string[]> = {
  ir: [],
  kernels: ['ir'],
  codegen: ['kernels', 'ir'],
  frontend: ['ir'],
  ops: ['ir', 'kernels'],
  passes: ['ir', 'ops', 'kernels', 'codegen'],
  bundle: ['ir'],
  'tensor-io': ['ir', 'frontend'],
  compiler: ['ir', 'frontend', 'passes', 'ops', 'kernels', 'codegen', 'bundle'],
  runtime: ['bundle', 'ir'],
  serve: ['runtime', 'bundle'],
  cli: ['compiler', 'runtime', 'bundle', 'tensor-io', 'ir', 'serve'],
};

describe('dependency rules', () => {
  it('each folder imports only the levels below it', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = folderOf(relative(SRC, file));
      for (const target of valueImports(file)) {
        const to = folderOf(target);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to))
          violations.push(`${relative(SRC, file)} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('code generators see only Kernel IR (and dtype names)', () => {
    const bad = files(join(SRC, 'codegen'))
      .flatMap((f) => valueImports(f).map((t) => `${relative(SRC, f)} → ${t}`))
      .filter((edge) => /→ ir\//.test(edge) && !edge.endsWith('→ ir/dtype.ts'));
    expect(bad).toEqual([]);
  });

  it('the runtime reaches no compiler code and stays tiny', async () => {
    const result = await build({
      entryPoints: [join(SRC, 'runtime/index.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      metafile: true,
      external: ['node:*'],
    });
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(SRC, resolve(p)));
    const compilerParts = inputs.filter((p) =>
      /^(frontend|passes|ops|kernels|codegen|compiler|cli|tensor-io)\//.test(p),
    );
    expect(compilerParts).toEqual([]);
    const bytes = result.outputFiles.reduce((s, f) => s + f.contents.length, 0);
    console.log(`runtime bundle: ${(bytes / 1024).toFixed(1)} KB minified`);
    expect(bytes).toBeLessThan(48 * 1024);
  });
});
