/**
 * The console page's stylesheet and script, inlined by console.ts. The script is plain browser
 * JavaScript kept as a string (String.raw, so its regexes keep their backslashes): it builds every
 * piece of the page that shows a model name with textContent, never with HTML.
 */

export const CONSOLE_STYLE = String.raw`
:root { color-scheme: light dark; --line: #8884; --muted: #888; --bad: #c33; --good: #2a7; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 16px 32px; }
header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 12px 0; }
h2 { font-size: 16px; margin: 0 0 8px; }
.muted { color: var(--muted); }
.model { border: 1px solid var(--line); border-radius: 6px; margin: 16px 0; padding: 12px 16px; }
.model .title { display: flex; gap: 12px; align-items: baseline; }
.model .status { font-size: 13px; }
.status.bad, .result.bad { color: var(--bad); }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px 2px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.values { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.metrics { margin: 8px 0; font-variant-numeric: tabular-nums; }
.metrics b { margin-right: 12px; }
textarea { box-sizing: border-box; width: 100%; min-height: 120px; font: 12px/1.3 ui-monospace, monospace; }
.controls { display: flex; gap: 8px; margin: 4px 0; }
.result { margin-top: 8px; }
.result pre, .raw pre { white-space: pre-wrap; word-break: break-all; font-size: 12px; max-height: 240px; overflow: auto; }
`;

export const CONSOLE_SCRIPT = String.raw`
'use strict';
const MODELS = JSON.parse(document.getElementById('kiln-models').textContent);
const TOKEN_KEY = 'kiln.apiKey';
const METRICS_EVERY_MS = 2000;
const SHOWN_VALUES = 8;
const cards = [];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(cells, header) {
  const tr = el('tr');
  for (const cell of cells) tr.append(typeof cell === 'string' ? el(header ? 'th' : 'td', '', cell) : cell);
  return tr;
}

function authHeaders(extra) {
  const headers = Object.assign({}, extra);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  return headers;
}

/** Relative URLs, so the console also works when the app is served under a path prefix. */
function modelUrl(model) {
  return 'v2/models/' + encodeURIComponent(model.name) +
    (model.version === undefined ? '' : '/versions/' + encodeURIComponent(model.version));
}

function errorText(status, body) {
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed.error === 'string') return 'HTTP ' + status + ': ' + parsed.error;
  } catch (_) {}
  return 'HTTP ' + status + ': ' + body;
}

function shapeText(shape) {
  return '[' + shape.join(', ') + ']';
}

function formatValue(value) {
  return typeof value === 'number' && !Number.isInteger(value) ? String(Number(value.toPrecision(6))) : String(value);
}

// ---- test requests ----

const UNSIGNED = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64']);

function generatedValue(datatype, kind) {
  if (datatype === 'BYTES') return 'hello world';
  if (datatype === 'BOOL') return kind === 'random' ? Math.random() < 0.5 : kind === 'ones';
  if (kind === 'zeros') return 0;
  if (kind === 'ones') return 1;
  if (datatype.startsWith('FP')) return Math.floor((Math.random() * 2 - 1) * 1e4) / 1e4;
  return UNSIGNED.has(datatype) ? Math.floor(Math.random() * 2) : Math.floor(Math.random() * 2) - 1;
}

/** One input per line, data inline, so even a long request stays readable and editable; a text model's texts alone. */
function requestText(inputs, kind) {
  const texts = inputs.filter(function (input) { return input.datatype === 'BYTES'; });
  const lines = (texts.length > 0 ? texts : inputs).map(function (input) {
    const shape = input.shape.map(function (d) { return d < 0 ? 1 : d; });
    const count = shape.reduce(function (n, d) { return n * d; }, 1);
    const data = Array.from({ length: count }, function () { return generatedValue(input.datatype, kind); });
    return '    ' + JSON.stringify({ name: input.name, datatype: input.datatype, shape: shape, data: data });
  });
  return '{\n  "inputs": [\n' + lines.join(',\n') + '\n  ]\n}\n';
}

function argmaxOf(output) {
  const k = output.shape[output.shape.length - 1];
  const isRow = output.shape.length === 1 || (output.shape.length === 2 && output.shape[0] === 1);
  if (!isRow || !Array.isArray(output.data) || output.data.length !== k || k < 2) return undefined;
  let best = 0;
  for (let i = 1; i < k; i++) if (output.data[i] > output.data[best]) best = i;
  return best;
}

function showOutputs(card, response, ms) {
  const result = card.result;
  result.className = 'result';
  result.replaceChildren(el('div', 'latency', 'HTTP 200 in ' + ms.toFixed(1) + ' ms'));
  const table = el('table', 'outputs');
  table.append(row(['output', 'datatype', 'shape', 'first values', 'argmax'], true));
  for (const output of response.outputs || []) {
    const data = Array.isArray(output.data) ? output.data : [];
    const first = data.slice(0, SHOWN_VALUES).map(formatValue).join(', ') + (data.length > SHOWN_VALUES ? ', …' : '');
    const best = argmaxOf(output);
    const values = el('td', 'values', output.data === undefined ? '(binary data)' : first);
    table.append(row([output.name, output.datatype, shapeText(output.shape), values,
      best === undefined ? '' : best + ' (' + formatValue(output.data[best]) + ')']));
  }
  const raw = el('details', 'raw');
  raw.append(el('summary', '', 'raw response'), el('pre', '', JSON.stringify(response, null, 2)));
  result.append(table, raw);
}

function showError(card, text) {
  card.result.className = 'result bad';
  card.result.replaceChildren(el('pre', 'error', text));
}

async function send(card) {
  card.sendButton.disabled = true;
  const started = performance.now();
  try {
    // sent exactly as typed: a malformed edit gets the server's own 400 message
    const res = await fetch(modelUrl(card.model) + '/infer', {
      method: 'POST',
      headers: authHeaders({ 'Content-Type': 'application/json' }),
      body: card.request.value,
    });
    const body = await res.text();
    const ms = performance.now() - started;
    if (!res.ok) showError(card, errorText(res.status, body) + ' (' + ms.toFixed(1) + ' ms)');
    else if (!(res.headers.get('Content-Type') || '').includes('json'))
      showError(card, 'binary response of ' + body.length + ' bytes: drop binary_data_output to see values here');
    else showOutputs(card, JSON.parse(body), ms);
  } catch (err) {
    showError(card, 'request failed: ' + err.message);
  } finally {
    card.sendButton.disabled = false;
    refreshMetrics();
  }
}

// ---- model cards ----

function signatureTable(metadata) {
  const table = el('table', 'signature');
  table.append(row(['', 'name', 'datatype', 'shape'], true));
  for (const [kind, tensors] of [['input', metadata.inputs], ['output', metadata.outputs]])
    for (const t of tensors) table.append(row([kind, t.name, t.datatype, shapeText(t.shape)]));
  return table;
}

function buildCard(model) {
  const section = el('section', 'model');
  const title = el('div', 'title');
  const status = el('span', 'status muted', 'loading…');
  title.append(el('h2', 'name', model.name + (model.version === undefined ? '' : ' v' + model.version)), status);
  const signature = el('div', 'signature-box');
  const metrics = el('div', 'metrics muted', 'no metrics yet');
  const generator = el('select', 'generator');
  for (const kind of ['zeros', 'ones', 'random']) generator.append(el('option', '', kind));
  const fill = el('button', 'fill', 'fill');
  const sendButton = el('button', 'send', 'send');
  const request = el('textarea', 'request');
  request.spellcheck = false;
  const controls = el('div', 'controls');
  controls.append(generator, fill, sendButton);
  const form = el('div', 'form');
  form.append(el('h3', '', 'test request'), controls, request);
  const result = el('div', 'result');
  form.append(result);
  const columns = el('div', 'columns');
  columns.append(signature, form);
  section.append(title, metrics, columns);
  const card = { model, section, status, signature, metrics, request, sendButton, result, inputs: undefined };
  fill.addEventListener('click', function () {
    if (card.inputs) request.value = requestText(card.inputs, generator.value);
  });
  sendButton.addEventListener('click', function () { send(card); });
  return card;
}

async function loadSignature(card) {
  card.status.className = 'status muted';
  card.status.textContent = 'loading…';
  try {
    const res = await fetch(modelUrl(card.model), { headers: authHeaders({}) });
    const body = await res.text();
    if (!res.ok) {
      card.status.className = 'status bad';
      card.status.textContent = errorText(res.status, body) + (res.status === 401 ? ' (enter the API key above)' : '');
      return;
    }
    const metadata = JSON.parse(body);
    card.status.textContent = metadata.platform;
    card.signature.replaceChildren(signatureTable(metadata));
    card.inputs = metadata.inputs;
    if (!card.request.value) card.request.value = requestText(metadata.inputs, 'zeros');
  } catch (err) {
    card.status.className = 'status bad';
    card.status.textContent = 'could not load the signature: ' + err.message;
  }
}

// ---- metrics ----

function parseLabels(text) {
  const labels = {};
  const pattern = /(\w+)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = pattern.exec(text)))
    labels[m[1]] = m[2].replace(/\\(.)/g, function (_, c) { return c === 'n' ? '\n' : c; });
  return labels;
}

/** Per model and version: request and failure counts and the cumulative latency buckets. */
function parseMetrics(text) {
  const series = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = parseLabels(m[2] || '');
    if (labels.model === undefined) continue;
    const key = labels.model + '\u0000' + (labels.version || '');
    if (!series.has(key)) series.set(key, { requests: 0, failures: 0, buckets: [] });
    const s = series.get(key);
    const value = Number(m[3]);
    if (m[1] === 'kiln_inference_requests_total') s.requests = value;
    else if (m[1] === 'kiln_inference_failures_total') s.failures = value;
    else if (m[1] === 'kiln_request_duration_seconds_bucket')
      s.buckets.push([labels.le === '+Inf' ? Infinity : Number(labels.le), value]);
  }
  return series;
}

/** The median latency in seconds, interpolated inside its histogram bucket (the usual estimate). */
function medianSeconds(buckets) {
  const sorted = buckets.slice().sort(function (a, b) { return a[0] - b[0]; });
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return undefined;
  let lower = 0;
  let below = 0;
  for (const [le, count] of sorted) {
    if (count >= total / 2) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (total / 2 - below)) / Math.max(count - below, 1e-9);
    }
    lower = le;
    below = count;
  }
  return lower;
}

let metricsInFlight = false;
async function refreshMetrics() {
  if (metricsInFlight) return;
  metricsInFlight = true;
  const status = document.getElementById('metrics-status');
  try {
    const res = await fetch('metrics', { headers: authHeaders({}) });
    const body = await res.text();
    if (!res.ok) throw new Error(errorText(res.status, body));
    const series = parseMetrics(body);
    for (const card of cards) {
      const s = series.get(card.model.name + '\u0000' + (card.model.version || ''));
      if (!s) continue;
      const p50 = medianSeconds(s.buckets);
      card.metrics.className = 'metrics';
      card.metrics.replaceChildren(
        el('b', 'requests', 'requests ' + s.requests),
        el('b', 'failures', 'failures ' + s.failures),
        el('b', 'p50', 'p50 ' + (p50 === undefined ? '–' : '≈ ' + (p50 * 1000).toFixed(2) + ' ms')),
      );
    }
    status.className = 'muted';
    status.textContent = 'metrics at ' + new Date().toLocaleTimeString();
  } catch (err) {
    status.className = 'status bad';
    status.textContent = 'metrics: ' + err.message;
  } finally {
    metricsInFlight = false;
  }
}

// ---- start ----

const tokenInput = document.getElementById('token');
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || '';
tokenInput.addEventListener('change', function () {
  const token = tokenInput.value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const card of cards) loadSignature(card);
  refreshMetrics();
});

const main = document.getElementById('models');
if (MODELS.length === 0) main.append(el('p', 'muted', 'No models are served.'));
for (const model of MODELS) {
  const card = buildCard(model);
  cards.push(card);
  main.append(card.section);
  loadSignature(card);
}
refreshMetrics();
setInterval(refreshMetrics, METRICS_EVERY_MS);
`;
