import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../../src/ir/dtype.js';
import { ELEMENT_ARRAY, elementBytes } from '../../src/bundle/elements.js';

const COMPILER_DIRS = ['frontend', 'ir', 'passes', 'kernels', 'codegen', 'compiler', 'ops', 'cli'];

/** Runtime-side modules (value imports only: `import type` is erased and ships nothing). */
async function valueImports(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const found = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map(
    (m) => m[1],
  );
  const dynamic = [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]);
  return [...found, ...dynamic];
}

async function runtimeClosure(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  const pending = (await readdir('src/runtime'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join('src/runtime', f));
  while (pending.length) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    const imports = await valueImports(file);
    files.set(file, imports);
    for (const spec of imports)
      if (spec.startsWith('.')) pending.push(join(file, '..', spec).replace(/\.js$/, '.ts'));
  }
  return files;
}

describe('runtime boundaries', () => {
  it('the runtime and what it imports use nothing from the compiler or the CLI', async () => {
    for (const [file, imports] of await runtimeClosure())
      for (const spec of imports.filter((s) => s.startsWith('.'))) {
        const target = join(file, '..', spec);
        const dir = target.split('/')[1];
        expect(COMPILER_DIRS, `${file} imports ${spec}`).not.toContain(dir);
      }
  });

  it('only the lazily loaded directory reader touches node: modules', async () => {
    for (const [file, imports] of await runtimeClosure()) {
      const nodeImports = imports.filter((s) => s.startsWith('node:'));
      if (file.endsWith('directory-source.ts'))
        expect([...new Set(nodeImports)]).toEqual(['node:fs/promises']);
      else expect(nodeImports, file).toEqual([]);
    }
    const text = await readFile('src/runtime/directory-source.ts', 'utf8');
    expect(text).not.toMatch(/^import [^t].*node:/m);
  });

  it("the runtime's element table agrees with the compiler's dtype table", () => {
    for (const [dtype, info] of Object.entries(DTYPES)) {
      expect(elementBytes(dtype as keyof typeof DTYPES)).toBe(info.bytes);
      expect(ELEMENT_ARRAY[dtype as keyof typeof DTYPES]).toBe(info.array);
    }
    expect(Object.keys(ELEMENT_ARRAY).sort()).toEqual(Object.keys(DTYPES).sort());
  });
});
