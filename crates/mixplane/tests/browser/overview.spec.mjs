// The overview: first render measured, its KPIs, the plant table, and live updates arriving
// without a reload while the demo's plant runs on.

export const order = 10;

export default async function (t) {
  const { assert } = t;
  const { page } = await t.session('planner');
  // Measured from a fresh load of the page (the session already open): navigation start to
  // the overview's data drawn.
  await page.goto(`${t.base}/#/overview`);
  await page.reload();
  await page.waitForSelector('[data-test=page-overview][data-rendered=true]');
  const firstRender = await page.evaluate(() => window.__mixplane.rendered.overview.at);
  t.metric('overview first render (navigation start → drawn)', firstRender, 'ms');

  for (const kpi of ['on-time', 'late', 'utilisation', 'changeovers', 'wip', 'bottleneck']) {
    assert.ok(await page.isVisible(`[data-test=kpi-${kpi}]`), `KPI ${kpi} shown`);
  }
  const areas = await page.$$eval('[data-test=plant-table] tbody tr', (rows) => rows.length);
  assert.ok(areas >= 3, `the plant table lists the areas (${areas})`);
  await t.shot(page, 'overview');

  // Live: the demo's plant runs at 600× — changes arrive over server-sent events and the
  // page refetches without reloading (a marker on window survives).
  await page.evaluate(() => { window.__notReloaded = true; });
  const before = await page.evaluate(() => window.__mixplane.changes);
  await page.waitForFunction((n) => window.__mixplane.changes > n, before, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'no reload');
  assert.equal(await page.textContent('[data-test=live]'), 'live');

  const bottleneck = await page.textContent('[data-test=kpi-bottleneck] .value');
  assert.ok(bottleneck && bottleneck !== '—', 'a bottleneck is named');

  // An order's own view, where every order link leads: a late one says why, step by step.
  // The live plant replans as it runs, so an order late in one answer may be on time by the
  // time its page asks: a late order is picked again, at most three times.
  let steps = 0;
  const tried = [];
  for (let attempt = 0; attempt < 3 && steps === 0; attempt++) {
    const explained = await fetch(`${t.base}/v1/schedule/explain`, {
      headers: { Authorization: `Bearer ${t.tokens.planner}` },
    }).then((r) => r.json());
    const late = explained.late_orders[0];
    assert.ok(late, 'the plan of the demo has late orders');
    tried.push(late.order);
    await page.goto(`${t.base}/#/order/${encodeURIComponent(late.order)}`);
    await page.waitForSelector('[data-test=page-order][data-rendered=true]');
    assert.equal(await page.textContent('[data-test=order-id]'), `Order ${late.order}`);
    steps = await page.$$eval('[data-test=order-lateness] li', (items) => items.length);
  }
  assert.ok(steps >= 1, `the chain of waits is listed (late orders tried: ${tried.join(', ')})`);
  await page.click('[data-test=order-gantt]');
  await page.waitForSelector('[data-test=page-gantt][data-rendered=true]');
}
