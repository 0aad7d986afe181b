// Browser spec of the audit trail: a supervisor filters by actor and action and verifies the chain.
//
// The rows are what the API's filters answer, proposal records name `modified_by`, and the
// hash-chain check reports the trail intact with the count of records it verified.

export const order = 70;

async function call(t, path) {
  const response = await fetch(`${t.base}${path}`, {
    headers: { Authorization: `Bearer ${t.tokens.admin}`, Accept: 'application/json' },
  });
  t.assert.equal(response.status, 200, path);
  return response.json();
}

async function rows(page) {
  return page.$$eval('[data-test=audit-row]', (trs) => trs.map((tr) => ({
    seq: Number(tr.dataset.seq), actor: tr.dataset.actor, action: tr.dataset.action,
  })));
}

// Filters apply on submit; the table is replaced once the answer is in, so wait until every
// row satisfies the filter: `actor` exactly, `action` as a prefix (either may be absent).
async function waitRows(page, { actor, action }) {
  await page.waitForFunction(([a, p]) => {
    const trs = [...document.querySelectorAll('[data-test=audit-row]')];
    return trs.length > 0 && trs.every((tr) =>
      (a === null || tr.dataset.actor === a) && (p === null || tr.dataset.action.startsWith(p)));
  }, [actor ?? null, action ?? null]);
}

export default async function (t) {
  const { assert } = t;

  // An actor with proposal records: the filters below must select something.
  const proposals = await call(t, '/v1/audit?action=proposal.&limit=1');
  assert.ok(proposals.items.length, 'the demo has audited proposal actions');
  const actor = proposals.items[0].actor.id;

  const { page } = await t.session('supervisor');
  await page.goto(`${t.base}/#/audit`);
  await page.waitForSelector('[data-test=page-audit][data-rendered=true]');
  await page.waitForSelector('[data-test=audit-row]');
  // Newest first by default: the head of the trail on top.
  const newest = await rows(page);
  const head = await call(t, '/v1/audit?sort=-seq&limit=1');
  assert.ok(newest[0].seq > 1 && newest[0].seq <= head.items[0].seq, 'the newest records on top');
  assert.ok(newest.every((r, i) => i === 0 || r.seq < newest[i - 1].seq), 'newest first');

  // Oldest first on request: the trail from its first record.
  await page.selectOption('[data-test=audit-order]', 'oldest');
  await page.waitForFunction(() => document.querySelector('[data-test=audit-row]')?.dataset.seq === '1');
  const first = await rows(page);
  assert.equal(first[0].seq, 1, 'the trail starts at its first record');
  assert.ok(first.every((r, i) => i === 0 || r.seq > first[i - 1].seq), 'in sequence order');

  // By actor: every row is theirs, and as many as the API answers for that filter.
  await page.fill('[data-test=audit-actor]', actor);
  await page.click('[data-test=audit-filter]');
  await waitRows(page, { actor });
  const byActor = await rows(page);
  const apiActor = await call(t, `/v1/audit?actor=${encodeURIComponent(actor)}&limit=100`);
  // The trail grows while the test runs: the shorter of the two lists is the other's start.
  const n = Math.min(byActor.length, apiActor.items.length);
  assert.ok(n > 0);
  assert.deepEqual(byActor.slice(0, n).map((r) => r.seq), apiActor.items.slice(0, n).map((r) => r.seq));
  assert.match(page.url(), /actor=/, 'the filter is in the address');

  // And by action (a prefix): only their proposal records remain.
  await page.fill('[data-test=audit-action]', 'proposal.');
  await page.click('[data-test=audit-filter]');
  await waitRows(page, { actor, action: 'proposal.' });
  const both = await rows(page);
  assert.ok(both.length > 0);

  // The action alone: every actor's proposal records, each naming the engine behind it.
  await page.fill('[data-test=audit-actor]', '');
  await page.click('[data-test=audit-filter]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=audit-row]').length > n, both.length);
  await waitRows(page, { action: 'proposal.' });
  const modifiedBy = await page.$$eval('[data-test=audit-modified-by]', (tds) => tds.map((td) => td.textContent));
  assert.ok(modifiedBy.some((m) => m.includes('/')), 'modified_by (engine/version) is shown');

  // Verify: the chain is intact, over at least the records the API counted before.
  const before = await call(t, '/v1/audit/verify');
  const started = Date.now();
  await page.click('[data-test=audit-verify]');
  await page.waitForSelector('[data-test=audit-verify-result][data-intact]');
  t.metric('audit: verify the chain', Date.now() - started, 'ms');
  assert.equal(await page.getAttribute('[data-test=audit-verify-result]', 'data-intact'), 'true');
  const text = await page.textContent('[data-test=audit-verify-result]');
  assert.match(text, /intact/);
  const records = Number(await page.getAttribute('[data-test=audit-verify-result]', 'data-records'));
  assert.ok(records >= before.records, `${records} records verified, the API counted ${before.records} before`);
  assert.match(text, new RegExp(`${records} records`));
  await t.shot(page, 'audit');

  // Clearing the filters brings back the whole trail from its start.
  await page.click('[data-test=audit-clear]');
  await page.waitForFunction(() => document.querySelector('[data-test=audit-row]')?.dataset.seq === '1');
}
