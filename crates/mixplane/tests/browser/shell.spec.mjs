// The shell: sign-in (a wrong token is refused by name), the session cookie's flags, CSRF
// on writes, what each role is offered, and sign-out.

export const order = 0;

export default async function (t) {
  const { assert } = t;
  const { page, context } = await t.session('admin');
  const cookies = await context.cookies();
  const cookie = cookies.find((c) => c.name === 'mixplane_session');
  assert.ok(cookie, 'a session cookie is set');
  assert.equal(cookie.httpOnly, true, 'the cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Strict', 'the cookie is SameSite=Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('mixplane_session')), false, 'scripts cannot read it');

  // Reads go through with the cookie; a write without the CSRF token is refused, with it passes the door.
  const read = await page.evaluate(async () => (await fetch('/v1/work-centers')).status);
  assert.equal(read, 200);
  const forged = await page.evaluate(async () => {
    const r = await fetch('/v1/quality/holds', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(forged.status, 403, JSON.stringify(forged));
  assert.match(forged.body.detail, /CSRF/);

  // The admin is offered every page.
  for (const name of ['overview', 'gantt', 'scenarios', 'approvals', 'quality', 'genealogy', 'audit']) {
    assert.ok(await page.isVisible(`[data-test=nav-${name}]`), `admin sees ${name}`);
  }

  // A viewer is not offered the audit trail (the role does not read it), and opening it by
  // its link says so instead of showing it.
  const { page: viewer } = await t.session('viewer');
  assert.equal(await viewer.isVisible('[data-test=nav-audit]'), false, 'the viewer has no audit page');
  await viewer.goto(`${t.base}/#/audit`);
  await viewer.waitForSelector('[data-test=not-permitted]');

  // A supervisor of one area reads the audit trail by role but not by scope (it spans every
  // area): not offered either; the Gantt shows that area's units only.
  const { page: chem } = await t.session('chem_supervisor');
  assert.equal(await chem.isVisible('[data-test=nav-audit]'), false, 'no audit page for an area scope');
  assert.match(await chem.textContent('[data-test=who]'), /area:A-CHEM/);
  await chem.goto(`${t.base}/#/audit`);
  await chem.waitForSelector('[data-test=not-permitted]');
  assert.match(await chem.textContent('[data-test=not-permitted]'), /spans every area/);

  // Sign out: the cookie no longer opens anything, and the sign-in page is back.
  await page.click('[data-test=sign-out]');
  await page.waitForSelector('[data-test=sign-in]');
  const after = await page.evaluate(async () => (await fetch('/v1/work-centers')).status);
  assert.equal(after, 401, 'the signed-out session reads nothing');

  // A wrong token is refused with the reason shown.
  await page.fill('[data-test=token]', 'mxp_0000000000000000_' + '0'.repeat(64));
  await page.click('[data-test=sign-in-submit]');
  await page.waitForFunction(() => document.querySelector('[data-test=sign-in-error]')?.textContent.length > 0);
  assert.match(await page.textContent('[data-test=sign-in-error]'), /unknown, revoked or malformed/);
}
