/**
 * The web console at GET / in real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a real Node server serving the compiled sample MLP.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/serve/app.js';
import { startNodeServer, type NodeServer } from '../../src/serve/node.js';
import { compileMlp, type CompiledBundle } from '../serve/fixture.js';

const CHROMIUM = '/usr/bin/chromium';
/** A name that would run script or break out of the data block if the page did not escape it. */
const HOSTILE = `</script><img src=x onerror="window.pwned=1">&amp; 'q'`;
const API_KEY = 'console-test-key';

let mlp: CompiledBundle;
let server: NodeServer;
let locked: NodeServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requestedUrls: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `the console test needs Debian's Chromium at ${CHROMIUM}, which is missing: install it with ` +
        '`apt-get install -y chromium` (.ci/run does)',
    );
  mlp = await compileMlp();
  const models = [
    { name: 'mlp', model: mlp.model },
    { name: HOSTILE, model: mlp.model },
  ];
  server = await startNodeServer({ models, port: 0, host: '127.0.0.1', log: false });
  locked = await startNodeServer({ models, port: 0, host: '127.0.0.1', log: false, apiKey: API_KEY });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  context = await browser.newContext();
  // a page that never shows what a step waits for should fail the test soon, not at vitest's limit
  context.setDefaultTimeout(5000);
  page = await context.newPage();
  page.on('request', (r) => requestedUrls.push(r.url()));
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    // the browser logs every 4xx answer (the bad-request test makes one); only script errors count
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  await page.goto(`${server.url}/`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await locked?.close();
  await mlp?.cleanup();
});

const X = Array.from({ length: 64 }, (_, i) => Math.cos(i));
const runDirectly = async () =>
  Array.from(
    (await mlp.model.run({ x: { dtype: 'float32', dims: [1, 64], data: Float32Array.from(X) } })).probs
      .data as Float32Array,
  );
const card = (p: Page, name: string) =>
  p.locator('section.model').filter({ has: p.getByRole('heading', { name, exact: true }) });
const cellTexts = (p: Page, name: string, selector: string) =>
  card(p, name)
    .locator(selector)
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).innerText.split('\t')));
const requestCount = async (p: Page, name: string) =>
  Number((await card(p, name).locator('.metrics .requests').innerText()).replace('requests ', ''));

describe('the console page', () => {
  it('is one self-contained HTML page with a CSP, reachable without the API key', async () => {
    const app = createApp({ models: [{ name: 'mlp', model: mlp.model }], apiKey: API_KEY, log: false });
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect((await app.request('/metrics')).status).toBe(401);
  });

  it('lists every model with its signature, showing hostile names as text', async () => {
    const mlpCard = card(page, 'mlp');
    await mlpCard.locator('.signature tr').nth(1).waitFor();
    const signature = await cellTexts(page, 'mlp', '.signature tr');
    expect(signature.slice(1)).toEqual([
      ...mlp.model.inputs.map((t) => ['input', t.name, 'FP32', `[${t.shape.join(', ')}]`]),
      ...mlp.model.outputs.map((t) => ['output', t.name, 'FP32', `[${t.shape.join(', ')}]`]),
    ]);
    // the hostile name reached the page, the API (URL-encoded) and back, as plain text
    const hostileCard = card(page, HOSTILE);
    await hostileCard.locator('.signature tr').nth(1).waitFor();
    expect(await hostileCard.locator('h2').innerText()).toContain(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
  });

  it('prefills the request from the signature with zeros, ones or random values in [-1, 1)', async () => {
    const mlpCard = card(page, 'mlp');
    const request = async () => JSON.parse(await mlpCard.locator('textarea.request').inputValue());
    await mlpCard.locator('.signature tr').nth(1).waitFor();
    expect((await request()).inputs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [1, 64], data: new Array(64).fill(0) },
    ]);
    await mlpCard.locator('select.generator').selectOption('ones');
    await mlpCard.locator('button.fill').click();
    expect((await request()).inputs[0].data).toEqual(new Array(64).fill(1));
    await mlpCard.locator('select.generator').selectOption('random');
    await mlpCard.locator('button.fill').click();
    const random: number[] = (await request()).inputs[0].data;
    expect(random).toHaveLength(64);
    expect(random.every((v) => v >= -1 && v < 1)).toBe(true);
    expect(new Set(random).size).toBeGreaterThan(1);
  });

  it('sends the form and shows the same outputs as calling the runtime directly', async () => {
    const mlpCard = card(page, 'mlp');
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: X }] };
    await mlpCard.locator('textarea.request').fill(JSON.stringify(body));
    await mlpCard.locator('button.send').click();
    await mlpCard.locator('.result .outputs').waitFor();
    const expected = await runDirectly();
    const raw = JSON.parse(await mlpCard.locator('.raw pre').textContent({ timeout: 1000 }).then(String));
    expect(raw.outputs[0].data).toEqual(expected);
    const [, row] = await cellTexts(page, 'mlp', '.outputs tr');
    const argmax = expected.indexOf(Math.max(...expected));
    expect(row.slice(0, 3)).toEqual(['probs', 'FP32', `[1, ${expected.length}]`]);
    const shown = row[3].split(', ').slice(0, 8).map(Number);
    shown.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(row[4]).toMatch(new RegExp(`^${argmax} \\(`));
    expect(await mlpCard.locator('.result .latency').innerText()).toMatch(/^HTTP 200 in \d+\.\d ms$/);
  });

  it('shows the error body when the edited request is not valid JSON', async () => {
    const mlpCard = card(page, 'mlp');
    await mlpCard.locator('textarea.request').fill('{"inputs": [');
    await mlpCard.locator('button.send').click();
    await mlpCard.locator('.result.bad .error').waitFor();
    expect(await mlpCard.locator('.result .error').innerText()).toMatch(
      /^HTTP 400: the request body is not valid JSON: .+ \(\d+\.\d ms\)$/,
    );
  });

  it('polls /metrics and updates the panel after a request made elsewhere', async () => {
    await card(page, 'mlp').locator('.metrics .requests').waitFor();
    const before = await requestCount(page, 'mlp');
    const res = await fetch(`${server.url}/v2/models/mlp/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: X }] }),
    });
    expect(res.status).toBe(200);
    await page.waitForFunction(
      (want) =>
        document.querySelector('section.model .metrics .requests')?.textContent === `requests ${want}`,
      before + 1,
      { timeout: 6000 },
    );
    const mlpMetrics = card(page, 'mlp').locator('.metrics');
    expect(await mlpMetrics.locator('.failures').innerText()).toBe('failures 1');
    expect(await mlpMetrics.locator('.p50').innerText()).toMatch(/^p50 ≈ \d+\.\d\d ms$/);
  });

  it('loaded nothing from outside the server and raised no script errors', () => {
    expect(requestedUrls.filter((u) => !u.startsWith(`${server.url}/`))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe('the console with KILN_API_KEY auth on', () => {
  it('asks for the key, keeps it in sessionStorage and sends it as a bearer token', async () => {
    const p = await context.newPage();
    const response = await p.goto(`${locked.url}/`);
    expect(response?.status()).toBe(200);
    const mlpCard = card(p, 'mlp');
    await mlpCard.locator('.status.bad').waitFor();
    expect(await mlpCard.locator('.status').innerText()).toContain('HTTP 401');
    await p.locator('#token').fill(API_KEY);
    await p.locator('#token').press('Enter');
    await mlpCard.locator('.signature tr').nth(1).waitFor();
    expect(await p.evaluate(() => sessionStorage.getItem('kiln.apiKey'))).toBe(API_KEY);
    await mlpCard.locator('button.send').click();
    await mlpCard.locator('.result .outputs').waitFor();
    await p.reload();
    await mlpCard.locator('.signature tr').nth(1).waitFor();
    expect(await p.locator('#token').inputValue()).toBe(API_KEY);
    await p.close();
  });
});
