/**
 * The web console at `GET /`: one self-contained HTML page (no external resources, no build step) that
 * lists the served models, shows live metrics and sends test requests through the same API clients use.
 * The page holds only model names and versions, so it stays reachable when API-key auth is on; every API
 * call it makes carries the key the user types in.
 */
import { CONSOLE_SCRIPT, CONSOLE_STYLE } from './console-assets.js';
import type { ServedModel } from './registry.js';

/** Model names are arbitrary text: as JSON in a data block, only `<` could end the block early. */
const jsonForScriptBlock = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function consolePage(models: readonly ServedModel[]): Response {
  // a fresh nonce per response: the CSP then refuses any script or style that did not come from here
  const nonce = crypto.randomUUID().replace(/-/g, '');
  const listed = models.map(({ name, version }) => ({ name, version }));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiln console</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${CONSOLE_STYLE}</style>
</head>
<body>
<header>
<h1>Kiln console</h1>
<label>API key <input id="token" type="password" autocomplete="off" placeholder="only if KILN_API_KEY is set"></label>
<span id="metrics-status" class="muted"></span>
</header>
<main id="models"><noscript>The console needs JavaScript.</noscript></main>
<script id="kiln-models" type="application/json">${jsonForScriptBlock(listed)}</script>
<script nonce="${nonce}">${CONSOLE_SCRIPT}</script>
</body>
</html>
`;
  return new Response(html, {
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "connect-src 'self'",
        'img-src data:',
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
