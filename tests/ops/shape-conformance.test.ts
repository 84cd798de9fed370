/**
 * The ONNX backend node tests of the data-movement ops, run through each op's infer + lower and the
 * bounds-checked Kernel IR interpreter (every input known, as constant folding sees it).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/ops/shape/index.js';
import { listNodeTests, NODE_TESTS, runNodeTest, SHAPE_TESTS } from './shape-harness/node-test.js';

describe('ONNX node tests of shape ops (interpreted)', () => {
  const names = existsSync(NODE_TESTS) ? listNodeTests(SHAPE_TESTS) : [];
  it('finds the tests (apt-get install libonnx-testdata)', () => {
    expect(existsSync(NODE_TESTS), `${NODE_TESTS} is missing`).toBe(true);
    expect(names.length).toBeGreaterThan(150);
  });
  it.each(names)('%s', (name) => expect(runNodeTest(name)).toEqual({ status: 'pass' }));
});
