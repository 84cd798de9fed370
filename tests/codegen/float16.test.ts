import { FLOAT16_CASES } from './cases/storage.js';
import { describeCases } from './cases/case.js';
import { wasmTarget } from './harness.js';

describeCases(wasmTarget, 'float16 storage', FLOAT16_CASES);
