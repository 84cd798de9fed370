/** Loads and stores of every storage dtype on the GPU: word bitcasts, narrow bit fields, exact float16. */
import { FLOAT16_CASES, STORAGE_CASES } from '../cases/storage.js';
import { describeCases } from '../cases/case.js';
import { webgpuTarget } from './harness.js';

describeCases(webgpuTarget, 'wgsl storage dtypes', STORAGE_CASES);
describeCases(webgpuTarget, 'wgsl float16 storage', FLOAT16_CASES);
