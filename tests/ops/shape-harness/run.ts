/** CLI: npx tsx tests/ops/shape-harness/run.ts REGEX — run matching node tests through the interpreter. */
import '../../../src/ops/shape/index.js';
import { listNodeTests, runNodeTest } from './node-test.js';

const filter = new RegExp(process.argv[2] ?? '.');
let pass = 0;
let total = 0;
for (const name of listNodeTests(filter)) {
  total++;
  const r = runNodeTest(name);
  if (r.status === 'pass') pass++;
  console.log(`${r.status.padEnd(5)} ${name}${r.message ? `: ${r.message}` : ''}`);
}
console.log(`${pass}/${total} passed`);
