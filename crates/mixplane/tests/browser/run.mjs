// Runs the dashboard's browser specs (*.spec.mjs beside this file, in their `order`) in
// Debian's chromium through playwright-core, against a running mixplane server.
//
// Environment: MIXPLANE_BASE (the server's URL), MIXPLANE_TOKENS (JSON: a token per
// principal name), MIXPLANE_BROWSER_NPM (the node_modules holding playwright-core,
// `.ci/browser/env`), optional MIXPLANE_SHOTS (a folder for the README's screenshots) and
// MIXPLANE_CHROMIUM (default /usr/bin/chromium). Arguments: spec names to run (default all).
// Prints one line a spec and the measured figures; exits 1 if any spec failed.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const need = (name) => {
  const value = process.env[name];
  if (!value) { console.error(`${name} is not set`); process.exit(2); }
  return value;
};
const base = need('MIXPLANE_BASE').replace(/\/$/, '');
const tokens = JSON.parse(need('MIXPLANE_TOKENS'));
const require = createRequire(join(need('MIXPLANE_BROWSER_NPM'), 'noop.js'));
const { chromium } = require('playwright-core');
const shots = process.env.MIXPLANE_SHOTS || null;
if (shots) mkdirSync(shots, { recursive: true });

const only = process.argv.slice(2);
const specs = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('.spec.mjs')).sort()) {
  const name = file.replace(/\.spec\.mjs$/, '');
  if (only.length && !only.includes(name)) continue;
  const module = await import(pathToFileURL(join(here, file)).href);
  specs.push({ name, order: module.order ?? 50, run: module.default });
}
specs.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

const browser = await chromium.launch({
  executablePath: process.env.MIXPLANE_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const metrics = [];
let failed = 0;
for (const spec of specs) {
  const contexts = [];
  const pageErrors = [];
  const t = {
    base, tokens, assert,
    /** A new browser context signed in, through the sign-in page, as `name`. */
    async session(name, { viewport = { width: 1440, height: 900 } } = {}) {
      const token = tokens[name];
      assert.ok(token, `no token for principal "${name}"`);
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
      // A page whose render threw is caught by the shell, which says so on the console.
      page.on('console', (message) => {
        if (message.type() === 'error' && message.text().startsWith('mixplane page failed:')) {
          pageErrors.push(`${name}: ${message.text()}`);
        }
      });
      await page.goto(`${base}/`);
      await page.fill('[data-test=token]', token);
      await page.click('[data-test=sign-in-submit]');
      await page.waitForSelector('[data-test=nav]:not(:empty)');
      return { context, page };
    },
    /** A screenshot for the README, when MIXPLANE_SHOTS names a folder. */
    async shot(page, name) {
      if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
    },
    metric(name, value, unit) {
      metrics.push({ spec: spec.name, name, value, unit });
    },
  };
  const started = Date.now();
  try {
    await spec.run(t);
    assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
    console.log(`ok   ${spec.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${spec.name}: ${error.stack || error}`);
    if (pageErrors.length) console.log(`     page errors: ${pageErrors.join(' | ')}`);
  } finally {
    for (const context of contexts) await context.close().catch(() => {});
  }
}
await browser.close();

if (metrics.length) {
  console.log('figures:');
  for (const m of metrics) {
    const value = typeof m.value === 'number' ? m.value.toFixed(1) : m.value;
    console.log(`  ${m.spec}: ${m.name} = ${value} ${m.unit || ''}`);
  }
}
console.log(`${specs.length - failed} of ${specs.length} specs passed`);
process.exit(failed ? 1 : 0);
