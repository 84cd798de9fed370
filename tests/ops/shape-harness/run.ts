/** CLI: npx tsx tests/ops/shape-harness/run.ts REGEX — run matching node tests through the interpreter. */
import '../../../src/ops/shape/index.js';
import { listNodeTests, runNodeTest, SHAPE_TESTS } from './node-test.js';

const filter = process.argv[2] ? new RegExp(process.argv[2]) : SHAPE_TESTS;
let pass = 0;
let total = 0;
for (const name of listNodeTests(filter)) {
  total++;
  const r = runNodeTest(name);
  if (r.status === 'pass') pass++;
  console.log(`${r.status.padEnd(5)} ${name}${r.message ? `: ${r.message}` : ''}`);
}
console.log(`${pass}/${total} passed`);
