import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadModel } from '../../src/runtime/index.js';
import type { BundleFiles } from '../../src/bundle/files.js';
import { buildFixtureBundle, expectedY, fixtureFeeds, numbers } from './fixture.js';

let server: Server;
let base: string;
let bundle: BundleFiles;
const requested: string[] = [];

beforeAll(async () => {
  bundle = await buildFixtureBundle();
  const files: Record<string, Uint8Array | string> = {
    '/m/manifest.json': JSON.stringify(bundle.manifest),
    '/m/model.wasm': bundle.wasm,
    '/m/weights.bin': bundle.weights,
  };
  server = createServer((req, res) => {
    requested.push(req.url!);
    const body = files[req.url!];
    res.statusCode = body === undefined ? 404 : 200;
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('loads a bundle over HTTP, with or without a trailing slash', async () => {
  for (const url of [`${base}/m`, new URL(`${base}/m/`)]) {
    const model = await loadModel(url);
    const out = await model.run(fixtureFeeds([1, 2, 3, 4, 5, 6]));
    expect(numbers(out['out/y'])).toEqual(expectedY([1, 2, 3, 4, 5, 6]));
  }
  expect(requested).toContain('/m/weights.bin');
});

it('names the file and the HTTP status when a file is missing', async () => {
  await expect(loadModel(`${base}/gone/`)).rejects.toThrow(
    `cannot read manifest.json of the bundle at ${base}/gone/: HTTP 404 Not Found`,
  );
});
