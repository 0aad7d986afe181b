// Browser spec of the genealogy page: a batch traced backward and forward, a node re-centred, a recall run and its CSV downloaded and checked.

import fs from 'node:fs/promises';

export const order = 60;

const root = (t) => t.base.replace(/\/$/, '');
const HEADER = 'category,id,label,kind,status,quantity,on_hand,uom,depth,customers';

async function api(t, path, body) {
  const response = await fetch(`${root(t)}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { Authorization: `Bearer ${t.tokens.quality}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** One CSV record (RFC 4180 quoting; no line breaks inside fields in a recall). */
function parseCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(field); field = ''; } else field += c;
  }
  fields.push(field);
  return fields;
}

/** A process batch that fed discrete or repetitive orders: the lots a nonconformance names upstream. */
async function suspectBatch(t) {
  const ncs = await api(t, '/v1/quality/nonconformances?limit=100');
  for (const nc of ncs.items) {
    for (const item of nc.items) {
      if (!item.startsWith('lot:')) continue;
      const id = item.slice(4);
      const fwd = await api(t, `/v1/trace/forward/${encodeURIComponent(id)}`).catch(() => null);
      const back = await api(t, `/v1/trace/backward/${encodeURIComponent(id)}`).catch(() => null);
      if (fwd && back && fwd.nodes.length > 1 && back.nodes.length > 1) return id;
    }
  }
  throw new Error('no lot with both upstream and downstream genealogy among the nonconformances');
}

export default async function (t) {
  const { assert } = t;
  const lot = await suspectBatch(t);
  const { context, page } = await t.session('quality');
  try {
    await page.goto(`${root(t)}/#/genealogy`);
    await page.locator('[data-test=trace-id]').fill(lot);
    const started = Date.now();
    await page.locator('[data-test=trace-go]').click();
    const graph = page.locator('[data-test=genealogy-graph]');
    await graph.waitFor();
    t.metric('genealogy_trace_render', Date.now() - started, 'ms');
    assert.ok(page.url().includes(`id=${encodeURIComponent(lot)}`), 'the trace has a link of its own');

    // Both directions: upstream and downstream rows, and the root node drawn once.
    assert.match(await page.locator('[data-test=backward-count]').innerText(), /^[1-9]\d* upstream/);
    assert.match(await page.locator('[data-test=forward-count]').innerText(), /^[1-9]\d* downstream/);
    assert.ok(await page.locator('[data-test=trace-row][data-dir=upstream]').count() >= 1);
    assert.ok(await page.locator('[data-test=trace-row][data-dir=downstream]').count() >= 1);
    assert.equal(await graph.locator(`[data-test=graph-node][data-id="${lot}"]`).count(), 1);
    assert.ok(await graph.locator('[data-test=graph-node][data-kind=order]').count() >= 1, 'the orders that made and used it');
    assert.ok(await graph.locator('[data-test=edge-label]').count() >= 1, 'edges carry quantities');

    // The recall: totals, tables, and a CSV built from the same answer (the live plant may
    // move on between two calls, so the CSV is checked against what the page shows).
    await page.locator('[data-test=recall-run]').click();
    await page.locator('[data-test=recall-totals]').waitFor();
    const total = async (k) => Number(await page.locator(`[data-test=recall-total-${k}] .value`).innerText());
    const shown = { order: await total('orders'), lot: await total('lots'), serial: await total('serials'), pallet: await total('pallets'), customer: await total('customers') };
    assert.ok(shown.order >= 1 && shown.lot >= 1, 'the recall reaches orders and lots');
    assert.equal(await page.locator('[data-test=recall-orders-row]').count(), Math.min(shown.order, 100));
    const recall = await api(t, '/v1/trace/recall', { id: lot });
    assert.ok(recall.totals.orders >= shown.order, 'the API agrees (or has seen more since)');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=recall-csv]').click()]);
    assert.match(download.suggestedFilename(), /^recall-.*\.csv$/);
    const csv = await fs.readFile(await download.path(), 'utf8');
    const lines = csv.split(/\r\n/).filter(Boolean);
    assert.equal(lines[0], HEADER);
    const rows = lines.slice(1).map(parseCsvLine);
    const count = (cat) => rows.filter((r) => r[0] === cat).length;
    for (const cat of ['order', 'lot', 'serial', 'pallet']) assert.equal(count(cat), shown[cat], `${cat} rows match the totals`);
    assert.equal(new Set(rows.filter((r) => r[0] === 'customer').map((r) => r[1])).size, shown.customer, 'every customer is in the CSV');
    assert.ok(rows.some((r) => r[0] === 'lot' && r[2] === lot), 'the suspect lot is a row');
    assert.ok(rows.every((r) => r.length === 10), 'every row has the header\'s ten fields');

    // The EPCIS form of the recall comes from the API.
    const [epcis] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=recall-epcis]').click()]);
    const doc = JSON.parse(await fs.readFile(await epcis.path(), 'utf8'));
    assert.equal(doc.type, 'EPCISDocument');

    await page.evaluate(() => window.scrollTo(0, 0));
    await t.shot(page, 'genealogy');

    // A click on a node traces from it.
    const orderNode = graph.locator('[data-test=graph-node][data-kind=order]').first();
    const orderId = await orderNode.getAttribute('data-id');
    await orderNode.click();
    await page.waitForFunction((id) => location.hash.includes(`id=${encodeURIComponent(id)}`), orderId);
    await page.locator('[data-test=trace-summary]').getByText(orderId).first().waitFor();
    await page.locator(`[data-test=genealogy-graph] [data-test=graph-node][data-id="${orderId}"]`).waitFor();
  } finally {
    await context.close();
  }
}
