/** DESIGN.md §2 dependency rules, checked by scanning imports, and the runtime's and the Worker's size budgets. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { withoutTextTokenizer } from '../src/deploy/worker-build.js';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/**
 * Relative imports of a file, as src-relative paths: value imports only (type-only imports vanish at
 * build time), or with `types` every import and re-export, type-only ones included.
 */
function imports(file: string, { types = false } = {}): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const statement = types
    ? /^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms
    : /^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms;
  for (const m of text.matchAll(statement))
    out.push(relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
  for (const m of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g))
    out.push(relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
  return out;
}
const valueImports = (file: string) => imports(file);

const folderOf = (p: string) => p.split('/')[0];

/** Which src folders each folder may import (itself always). */
const ALLOWED: Record<string, string[]> = {
  text: [],
  ir: [],
  kernels: ['ir'],
  codegen: ['kernels', 'ir'],
  frontend: ['ir', 'text'],
  ops: ['ir', 'kernels', 'kernel-lang', 'text'],
  'kernel-lang': ['ir', 'kernels', 'text'],
  passes: ['ir', 'ops', 'kernels'],
  bundle: ['ir', 'text'],
  'tensor-io': ['ir', 'frontend', 'text'],
  compiler: ['ir', 'frontend', 'passes', 'ops', 'kernels', 'kernel-lang', 'codegen', 'bundle', 'text'],
  runtime: ['bundle', 'ir'],
  'runtime-node': ['runtime'],
  serve: ['runtime', 'runtime-node', 'bundle', 'text'],
  deploy: ['runtime', 'bundle', 'serve'],
  cli: [
    'compiler',
    'kernel-lang',
    'runtime',
    'runtime-node',
    'bundle',
    'tensor-io',
    'ir',
    'serve',
    'deploy',
    'text',
  ],
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

  it('no module imports itself through others (imports, type-only ones included, form no cycle)', () => {
    const graph = new Map(files(SRC).map((f) => [relative(SRC, f), imports(f, { types: true })]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('code generators see only Kernel IR (and dtype names, and the shape expressions of run-time extents)', () => {
    const bad = files(join(SRC, 'codegen'))
      .flatMap((f) => valueImports(f).map((t) => `${relative(SRC, f)} → ${t}`))
      .filter((edge) => /→ ir\//.test(edge) && !/→ ir\/(dtype|symbolic)\.ts$/.test(edge));
    expect(bad).toEqual([]);
  });

  it('code generators know no bundle, CLI or runtime types either', () => {
    const bad = files(join(SRC, 'codegen')).flatMap((f) =>
      [
        ...readFileSync(f, 'utf8').matchAll(
          /from '((?:\.\.\/)+(?:bundle|cli|runtime|serve|deploy|compiler)\/[^']+)'/g,
        ),
      ].map((m) => `${relative(SRC, f)} → ${m[1]}`),
    );
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
    // 48.0 KB on 2026-12-07 with the webgpu counted-size readback and request-path priming
    expect(bytes).toBeLessThan(50 * 1024);
  });

  it('the Worker script (runtime + serve + Hono, no model) has no compiler code or node: imports, under 150 KB', async () => {
    // the bundles are the model: a build serving none measures the script every Worker carries
    const noBundles: Plugin = {
      name: 'no-bundles',
      setup(b) {
        b.onResolve({ filter: /^kiln:bundles$/ }, () => ({ path: 'bundles', namespace: 'kiln' }));
        b.onLoad({ filter: /.*/, namespace: 'kiln' }, () => ({
          contents: 'export default [];',
          loader: 'js',
        }));
      },
    };
    const workerScript = (plugins: Plugin[]) =>
      build({
        entryPoints: [join(ROOT, 'workers/worker.ts')],
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'neutral',
        mainFields: ['module', 'main'],
        write: false,
        metafile: true,
        // the runtime's directory reader imports node:fs/promises lazily; Workers pass bundles in memory
        external: ['node:*'],
        plugins,
      });
    const result = await workerScript([noBundles, withoutTextTokenizer]);
    const inputs = Object.keys(result.metafile.inputs).map((p) => relative(SRC, resolve(ROOT, p)));
    expect(inputs).toContain('runtime/load.ts');
    expect(inputs).toContain('serve/app.ts');
    expect(inputs.some((p) => p.includes('node_modules/hono/'))).toBe(true);
    expect(
      inputs.filter((p) => /^(ir|frontend|passes|ops|kernels|codegen|compiler|cli|tensor-io)\//.test(p)),
    ).toEqual([]);
    const text = result.outputFiles[0].text;
    expect([...new Set(text.match(/\bnode:[\w/]+/g))]).toEqual(['node:fs/promises']);
    // reached only through a dynamic import, which a Worker never runs
    expect(text).not.toMatch(/^import[^;]*"node:/m);
    // the tokenizer library (≈ 42 KB) only goes into Workers that serve a text model (worker-build.ts)
    expect(
      inputs.filter((p) => p.includes('@huggingface/tokenizers') || p.endsWith('text-tokenizer.ts')),
    ).toEqual([]);
    const bytes = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
    console.log(`Worker script (runtime + serve + Hono): ${(bytes / 1024).toFixed(1)} KB minified`);
    expect(bytes).toBeLessThan(150 * 1024);
    // a Worker serving a text model carries the tokenizer library too: 150.0 KB on 2026-12-07 (the runtime's
    // index checks of fed ids and reused input copies took it past 150), so its budget is 160 KB
    const withTokenizer = (await workerScript([noBundles])).outputFiles[0].contents.length;
    console.log(
      `Worker script for text models (+ @huggingface/tokenizers): ${(withTokenizer / 1024).toFixed(1)} KB minified`,
    );
    expect(withTokenizer).toBeLessThan(160 * 1024);
  });

  it('cdk/ imports from src/ only the Lambda limits: it deploys built artifacts, given as paths', () => {
    // the construct sizes a function's memory from the bundles in its zip the way `kiln deploy` checks it
    const SHARED = ['deploy/lambda-limits.ts'];
    const CDK = join(ROOT, 'cdk');
    const offenders = files(CDK).filter((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)].some((m) => {
        const target = relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
        return !target.startsWith('..') && !SHARED.includes(target);
      }),
    );
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
