/**
 * What loading a bundle adds to a fresh process's memory (Linux): its RSS (VmRSS) once the runtime is
 * imported, then its peak RSS (VmHWM) once `loadModel` has returned; prints `{"bytes": peak − before}`.
 * The Node baseline, the same for every bundle, is left out. The wasm backend, SIMD128 module.
 * WARM_DIR, a bundle smaller than DIR, is loaded and disposed first, so what the first load of any
 * bundle costs (the runtime's lazily imported modules, V8's wasm compiler) is not counted either.
 *
 *   node --import tsx scripts/load-memory.ts DIR [WARM_DIR]
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/runtime/index.js';

function status(field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  if (!kb) throw new Error(`no ${field} in /proc/self/status (Linux only)`);
  return Number(kb[1]) * 1024;
}

const [dir, warm] = process.argv.slice(2);
if (!dir) throw new Error('usage: node --import tsx scripts/load-memory.ts DIR [WARM_DIR]');
const load = (from: string) => loadModel(from, { backend: 'wasm', variant: 'simd128' });
if (warm) (await load(warm)).dispose();
const before = status('VmRSS');
const model = await load(dir);
console.log(JSON.stringify({ bytes: status('VmHWM') - before }));
model.dispose();
