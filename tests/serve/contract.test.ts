/**
 * The serving contract in-process (the app itself, answering `app.request`) and over real HTTP
 * through the Node adapter that `kiln serve` runs.
 */
import { createApp } from '../../src/serve/app.js';
import { optionsFromEnv } from '../../src/serve/env.js';
import { startNodeServer } from '../../src/serve/node.js';
import { CONTRACT_ENV, describeContract } from './contract.js';
import { describeEmbeddingsContract } from './embeddings-contract.js';

describeContract('in-process', async (mlp) => {
  const app = createApp({
    models: [{ name: 'mlp', model: mlp.model }],
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });
  return { send: async (path, init) => app.request(path, init) };
});

describeContract('Node server', async (mlp) => {
  const server = await startNodeServer({
    models: [{ name: 'mlp', model: mlp.model }],
    port: 0,
    host: '127.0.0.1',
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });
  return { send: (path, init) => fetch(`${server.url}${path}`, init), stop: () => server.close() };
});

describeEmbeddingsContract('in-process', async (text) => {
  const app = createApp({
    models: [{ name: 'text', model: text.model }],
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });
  return { send: async (path, init) => app.request(path, init) };
});

describeEmbeddingsContract('Node server', async (text) => {
  const server = await startNodeServer({
    models: [{ name: 'text', model: text.model }],
    port: 0,
    host: '127.0.0.1',
    log: false,
    ...optionsFromEnv(CONTRACT_ENV),
  });
  return { send: (path, init) => fetch(`${server.url}${path}`, init), stop: () => server.close() };
});
