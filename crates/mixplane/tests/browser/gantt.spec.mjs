// The Gantt: first render of the reference plant's plan measured, a late order found and
// clicked on the canvas to show its explanation chain, zoom and pan, and a 10,000-operation
// schedule (a generated native problem solved through the page) rendered and panned with its
// frame times measured in the page.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const order = 20;

// The `mixplane` binary generates the big problem (`mixplane schedule generate`): the one the
// runner's server runs, named by MIXPLANE_BIN, else the usual build outputs.
function mixplaneBinary() {
  const candidates = [
    process.env.MIXPLANE_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'mixplane'),
    '/var/tmp/mixplane-ci-target/debug/mixplane',
    join(process.cwd(), 'target', 'debug', 'mixplane'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no mixplane binary to generate the 10,000-operation problem (set MIXPLANE_BIN); tried ${candidates.join(', ')}`);
  return found;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Frame intervals measured in the page with requestAnimationFrame while `act` runs. */
async function frameTimes(page, act) {
  await page.evaluate(() => {
    window.__frames = [];
    window.__framesOn = true;
    let last = performance.now();
    const tick = (now) => {
      window.__frames.push(now - last);
      last = now;
      if (window.__framesOn) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await act();
  const frames = await page.evaluate(() => {
    window.__framesOn = false;
    return window.__frames.slice(1);
  });
  return frames.sort((a, b) => a - b);
}

async function drag(page, box, steps, dx) {
  const x0 = box.x + box.width * 0.75;
  const y0 = box.y + Math.min(box.height / 2, 220);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i <= steps; i++) await page.mouse.move(x0 + (i * dx) / steps, y0);
  await page.mouse.up();
}

export default async function (t) {
  const { assert } = t;
  const { page } = await t.session('planner');

  // First render, from a fresh load (navigation start) to the canvas drawn with operations.
  await page.goto(`${t.base}/#/gantt`);
  await page.reload();
  await page.waitForFunction(() => window.__mixplaneGantt?.firstDrawMs > 0, null, { timeout: 60_000 });
  const first = await page.evaluate(() => ({ ms: window.__mixplaneGantt.firstDrawMs, ops: window.__mixplaneGantt.ops }));
  assert.ok(first.ops > 0, 'the plan in force has operations');
  t.metric(`gantt first render, reference plant (${first.ops} operations; navigation start → drawn)`, first.ms, 'ms');

  // A late order, found in the list of late orders, then clicked on the canvas itself.
  await page.waitForSelector('[data-test=late-orders][data-source=explanation] [data-test=late-order]', { timeout: 60_000 });
  const late = await page.getAttribute('[data-test=late-order] >> nth=0', 'data-order');
  await page.click('[data-test=late-order] >> nth=0');
  await page.waitForSelector(`[data-test=explain-chain][data-order="${late}"]`);
  await page.click('[data-test=gantt-side-close]');
  await page.waitForSelector('[data-test=gantt-side]', { state: 'hidden' });
  // The close button dropped the highlight but kept the view on the order.
  const at = await page.evaluate((o) => window.__mixplaneGantt.locate(o), late);
  assert.ok(at, `an operation of ${late} is in view`);
  const canvas = page.locator('[data-test=gantt-canvas]');
  await canvas.click({ position: { x: at.x, y: at.y } });
  await page.waitForSelector(`[data-test=explain-chain][data-order="${late}"]`);
  const links = await page.$$eval('[data-test=explain-link]', (l) => l.map((x) => x.dataset.cause));
  assert.ok(links.length > 0, 'the explanation chain has links');
  assert.ok(await page.isVisible(`[data-test=explain-chain] [data-test=link-order][data-id="${late}"]`), 'the chain links to the order');
  assert.ok((await page.textContent('[data-test=explain-summary]')).includes('late'), 'the summary says how late');

  // Zoom (buttons and wheel) and pan (drag).
  const view = () => page.evaluate(() => ({ ...window.__mixplaneGantt.view }));
  await page.click('[data-test=gantt-fit]');
  await page.waitForTimeout(100);
  const fitted = await view();
  await page.click('[data-test=gantt-zoom-in]');
  await page.waitForTimeout(100);
  assert.ok((await view()).pxPerMin > fitted.pxPerMin * 1.3, 'zoom in');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 120);
  await page.mouse.wheel(0, 400);
  await page.waitForTimeout(100);
  const wheeled = await view();
  assert.ok(wheeled.pxPerMin < fitted.pxPerMin * 1.6, 'the wheel zooms out');
  await drag(page, box, 20, -300);
  await page.waitForTimeout(100);
  const panned = await view();
  assert.ok(panned.start > wheeled.start, 'dragging left moves the view later');
  await page.click('[data-test=gantt-colour-family]');
  assert.ok(await page.isVisible('[data-test=gantt-legend]'));
  await page.click('[data-test=gantt-fit]');
  await page.click(`[data-test=late-order][data-order="${late}"]`);
  await page.waitForSelector(`[data-test=explain-chain][data-order="${late}"]`);
  await page.waitForTimeout(300);
  await t.shot(page, 'gantt');

  // Live: the demo plant's events reach the page (topic `plan`); it refetches the plan and
  // redraws without a reload and without losing the zoom and pan.
  await page.click('[data-test=gantt-zoom-in]');
  await drag(page, box, 10, -120);
  await page.waitForTimeout(200);
  const kept = await view();
  const refreshes = await page.evaluate(() => window.__mixplaneGantt.refreshes || 0);
  await page.evaluate(() => { window.__notReloaded = true; });
  await page.waitForFunction((n) => (window.__mixplaneGantt.refreshes || 0) > n, refreshes, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'no reload');
  assert.deepEqual(await view(), kept, 'the refetched plan keeps the zoom and pan');

  // Panning the reference plant's plan, frame by frame.
  await page.click('[data-test=gantt-colour-order]');
  await page.click('[data-test=gantt-fit]');
  const small = await frameTimes(page, () => drag(page, box, 120, -600));
  t.metric('gantt pan, reference plant: median frame (120 drag steps)', quantile(small, 0.5), 'ms');
  t.metric('gantt pan, reference plant: p95 frame', quantile(small, 0.95), 'ms');

  // 10,000 operations: a generated native problem (`mixplane schedule generate`) solved by the
  // engine through the page's "Solve a problem file" (POST /v1/schedule/solve) and drawn.
  const dir = mkdtempSync(join(tmpdir(), 'mixplane-gantt-'));
  const file = join(dir, 'generated-10000.json');
  execFileSync(mixplaneBinary(), ['schedule', 'generate', '--operations', '10000', '--units', '20', '--seed', '7', '--out', file]);
  await page.setInputFiles('[data-test=gantt-problem-file]', file);
  await page.waitForFunction(() => window.__mixplaneGantt.ops >= 10000 && window.__mixplaneGantt.modelDrawnAt > window.__mixplaneGantt.fileSolvedAt,
    null, { timeout: 180_000 });
  const big = await page.evaluate(() => {
    const s = window.__mixplaneGantt;
    return { ops: s.ops, solve: s.fileSolveMs, render: s.modelDrawnAt - s.fileSolvedAt, firstFrame: s.lastFrameMs };
  });
  assert.equal(big.ops, 10000);
  assert.ok(await page.isVisible('[data-test=gantt-banner]'), 'the solved file is marked as not the plan in force');
  t.metric('gantt 10,000 operations: solve (POST /v1/schedule/solve, 1 s budget)', big.solve, 'ms');
  t.metric('gantt 10,000 operations: first render (answer received → drawn)', big.render, 'ms');

  // Pan the big schedule zoomed in to about a day, then at the whole horizon.
  for (let i = 0; i < 6; i++) await page.click('[data-test=gantt-zoom-in]');
  const frames = await frameTimes(page, () => drag(page, box, 120, -720));
  const draws = (await page.evaluate(() => window.__mixplaneGantt.frameTimes.slice(-120))).sort((a, b) => a - b);
  t.metric('gantt pan, 10,000 operations: median frame (120 drag steps, rAF)', quantile(frames, 0.5), 'ms');
  t.metric('gantt pan, 10,000 operations: p95 frame', quantile(frames, 0.95), 'ms');
  t.metric('gantt pan, 10,000 operations: p95 draw time', quantile(draws, 0.95), 'ms');
  await page.click('[data-test=gantt-fit]');
  const whole = await frameTimes(page, () => drag(page, box, 120, -360));
  t.metric('gantt pan, 10,000 operations all in view: p95 frame', quantile(whole, 0.95), 'ms');
  assert.ok(quantile(frames, 0.5) < 50, `panning stays interactive (median frame ${quantile(frames, 0.5).toFixed(1)} ms)`);

  await page.click('[data-test=gantt-back-to-plan]');
  await page.waitForFunction(() => window.__mixplaneGantt.ops < 10000, null, { timeout: 60_000 });
}
