import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PANEL_POLICY, type Policy } from '../shared/page-csp.js';

// The window's pages carry their policy in a <meta> tag as well, which cannot import
// shared/page-csp.ts: these hold the tags to it. A <meta> policy cannot say frame-ancestors.

function metaPolicy(page: string): Policy {
  const html = readFileSync(new URL(`../renderer/${page}/index.html`, import.meta.url), 'utf8');
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(content !== undefined, `renderer/${page}/index.html has a CSP <meta> tag`);
  return Object.fromEntries(content.split(';').map((directive) => {
    const [name, ...sources] = directive.trim().split(/\s+/);
    return [name, sources];
  }));
}

test("the app page's <meta> policy is the panel's", () => {
  const policy = Object.entries(PANEL_POLICY).filter(([name]) => name !== 'frame-ancestors');
  assert.deepEqual(metaPolicy('app'), Object.fromEntries(policy));
});

test("the capture page's <meta> policy allows nothing the panel's does not", () => {
  for (const [name, sources] of Object.entries(metaPolicy('capture'))) {
    const allowed = PANEL_POLICY[name] ?? PANEL_POLICY['default-src'];
    for (const source of sources) assert.ok(allowed.includes(source), `${name} ${source}`);
  }
});
