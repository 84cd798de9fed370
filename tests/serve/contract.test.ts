/** The serving contract in-process: the app itself, answering `app.request`. */
import { createApp } from '../../src/serve/app.js';
import { optionsFromEnv } from '../../src/serve/env.js';
import { CONTRACT_ENV, describeContract } from './contract.js';

describeContract('in-process', async (mlp) => {
  const app = createApp({
    models: [{ name: 'mlp', model: mlp.model }],
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });
  return { send: async (path, init) => app.request(path, init) };
});
