// Browser spec of the quality page: a control chart with limits and violations, a hold released with a reason, an NC moved on, and what a viewer is not offered.

export const order = 50;

const root = (t) => t.base.replace(/\/$/, '');

async function apiGet(t, who, path) {
  const response = await fetch(`${root(t)}${path}`, { headers: { Authorization: `Bearer ${t.tokens[who]}`, Accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export default async function (t) {
  const { assert } = t;
  const { context, page } = await t.session('quality');
  try {
    // A characteristic with violations: the newest alert's, so its point is in the default window.
    await page.goto(`${root(t)}/#/quality`);
    const firstAlert = page.locator('[data-test=alert-row]').first();
    await firstAlert.waitFor();
    const characteristic = await firstAlert.locator('[data-test=link-characteristic]').getAttribute('data-id');
    assert.ok(characteristic, 'the newest alert names its characteristic');

    // The chart the page draws is the API's answer it fetched (taken here, not asked again:
    // the live plant adds results, and a later answer's window may have moved on).
    const chartPath = `/v1/quality/characteristics/${encodeURIComponent(characteristic)}/chart`;
    const answered = page.waitForResponse((r) => r.url().endsWith(chartPath), { timeout: 60_000 });
    const started = Date.now();
    await page.goto(`${root(t)}/#/quality?characteristic=${encodeURIComponent(characteristic)}`);
    const chart = page.locator('[data-test=control-chart]');
    await chart.waitFor();
    t.metric('quality_chart_render', Date.now() - started, 'ms');
    for (const limit of ['ucl', 'center', 'lcl']) {
      assert.equal(await chart.locator(`[data-test=limit-${limit}]`).count(), 1, `the chart draws its ${limit}`);
    }
    const marks = chart.locator('[data-test=violation]');
    await marks.first().waitFor();
    assert.ok(await marks.count() >= 1, 'violations are marked');
    const apiChart = await (await answered).json();
    assert.ok(apiChart.violations.length >= 1, 'the API reports violations on it too');
    if (apiChart.transform === 'log') assert.equal(await page.locator('[data-test=log-scale]').count(), 1, 'a log chart says so');

    // Hovering a marked point shows its value, time and entity links.
    await marks.first().hover({ force: true });
    const tip = page.locator('[data-test=chart-tip]');
    await tip.waitFor({ state: 'visible' });
    assert.match(await tip.innerText(), /point \d+/);
    assert.ok(await tip.locator('a').count() >= 1, 'the tip links the measured items');
    await page.locator('[data-test=capability]').waitFor();

    // Release the first active hold with a reason; the row shows what the API answered.
    const holdRow = page.locator('[data-test=hold-row]:has([data-test=release-hold])').first();
    await holdRow.waitFor();
    const holdId = await holdRow.getAttribute('data-id');
    await holdRow.locator('[data-test=release-hold]').click();
    const row = page.locator(`[data-test=hold-row][data-id="${holdId}"]`);
    const confirm = row.locator('[data-test=release-confirm]');
    assert.ok(await confirm.isDisabled(), 'no release without a reason');
    await row.locator('[data-test=release-reason]').fill('retested, in spec (browser test)');
    await confirm.click();
    const outcome = row.locator('[data-test=release-outcome]');
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /Released by .*retested, in spec/);
    const hold = await apiGet(t, 'quality', `/v1/quality/holds/${encodeURIComponent(holdId)}`);
    assert.equal(hold.active, false, 'the hold is released in the store');
    assert.equal(hold.release_reason, 'retested, in spec (browser test)');

    // Move an open nonconformance one step: only the transitions of its state are offered.
    const ncRow = page.locator('[data-test=nc-row][data-state=open]').first();
    await ncRow.waitFor();
    const ncId = await ncRow.getAttribute('data-id');
    await ncRow.locator('[data-test=nc-open]').click();
    const detail = page.locator(`[data-test=nc-detail][data-id="${ncId}"]`);
    await detail.waitFor();
    const offered = await detail.locator('[data-test=nc-transitions] [data-action]').evaluateAll((nodes) => nodes.map((n) => n.dataset.action));
    assert.deepEqual(offered, ['start_investigation'], 'an open NC offers only start_investigation');
    await detail.locator('[data-test=nc-action-start_investigation]').click();
    await page.locator(`[data-test=nc-detail][data-id="${ncId}"][data-state=investigating]`).waitFor();
    await detail.locator('[data-test=nc-action-disposition]').waitFor();
    const nc = await apiGet(t, 'quality', `/v1/quality/nonconformances/${encodeURIComponent(ncId)}`);
    assert.equal(nc.nonconformance.state, 'investigating');

    // The README's picture: the chart with a point's tip, once the notices have gone.
    await page.waitForFunction(() => !document.querySelector('#toasts')?.children.length, null, { timeout: 15000 }).catch(() => {});
    await page.evaluate(() => window.scrollTo(0, 0));
    await marks.last().hover({ force: true });
    await t.shot(page, 'quality');
  } finally {
    await context.close();
  }

  // A viewer reads the same page but is offered no release and no transition.
  const viewer = await t.session('viewer');
  try {
    const { page } = viewer;
    await page.goto(`${root(t)}/#/quality`);
    await page.locator('[data-test=hold-row]').first().waitFor();
    assert.equal(await page.locator('[data-test=release-hold]').count(), 0, 'no release button for a viewer');
    await page.locator('[data-test=nc-open]').first().click();
    await page.locator('[data-test=nc-detail]').waitFor();
    assert.equal(await page.locator('[data-test=nc-transitions]').count(), 0, 'no NC transitions for a viewer');
  } finally {
    await viewer.context.close();
  }
}
