// Browser tests of the page behind the link in the mail.
// Started by run.sh, which provides the whole stack and these variables:
//   CALNDRO_BASE_URL, CALNDRO_MAILDIR, CALNDRO_PSQL, CALNDRO_DATABASE_URL,
//   CALNDRO_PROPOSER, CALNDRO_PASSWORD, CALNDRO_ARTIFACTS, CALNDRO_BROWSER_TMP
// Prints one line per test and a final "N passed, M failed"; exits 1 on any failure.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`page.test.mjs: ${name} is not set (run tests/browser/run.sh)`);
    process.exit(2);
  }
  return value;
};
const BASE = env('CALNDRO_BASE_URL');
const MAILDIR = env('CALNDRO_MAILDIR');
const PSQL = env('CALNDRO_PSQL');
const DATABASE_URL = env('CALNDRO_DATABASE_URL');
const PROPOSER = env('CALNDRO_PROPOSER');
const PASSWORD = env('CALNDRO_PASSWORD');
const ARTIFACTS = env('CALNDRO_ARTIFACTS');
const TMP = env('CALNDRO_BROWSER_TMP');
const ANN = 'ann@example.net';
const BOB = 'bob@example.net';
const CAROL = 'carol@example.net';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

// ---- a tiny runner ------------------------------------------------------------
let passed = 0;
let failed = 0;
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${name}\n      ${String(error && error.stack ? error.stack : error).replace(/\n/g, '\n      ')}`);
  }
}

// ---- the REST API as the proposer ----------------------------------------------
const basic = 'Basic ' + Buffer.from(`${PROPOSER}:${PASSWORD}`).toString('base64');
async function api(method, urlPath, body, headers = {}) {
  const response = await fetch(BASE + urlPath, {
    method,
    headers: { Authorization: basic, Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: response.status, headers: response.headers, data };
}
async function mustApi(method, urlPath, body, expected) {
  const result = await api(method, urlPath, body);
  assert.equal(result.status, expected, `${method} ${urlPath}: ${JSON.stringify(result.data)}`);
  return result.data;
}
async function logEntries(id) {
  return (await mustApi('GET', `/${id}/log/?limit=1000`, undefined, 200)).entries;
}

// ---- mail from the Maildir -----------------------------------------------------
const seenMail = new Set();
function readMails() {
  const dir = path.join(MAILDIR, 'new');
  return fs.readdirSync(dir).sort().map((name) => {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const to = (/^To:\s*(.*)$/mi.exec(text) || [])[1] || '';
    const link = /(https?:\/\/[^\s]+\/(\d+)\/\?et=([0-9a-f]{40}))/.exec(text);
    return { name, to, text, link: link && link[1], eventId: link && Number(link[2]), token: link && link[3] };
  });
}
// Waits for a mail to `recipient` about `eventId` that has not been seen yet.
async function waitForMail(recipient, eventId, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const mail of readMails()) {
      if (!seenMail.has(mail.name) && mail.to.includes(recipient) && mail.eventId === eventId) {
        seenMail.add(mail.name);
        return mail;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no new mail to ${recipient} about event ${eventId} within ${timeoutMs} ms`);
}
function mailsTo(recipient, eventId) {
  return readMails().filter((m) => m.to.includes(recipient) && m.eventId === eventId);
}

function psql(sql) {
  return execFileSync(PSQL, [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' }).trim();
}

// ---- the browser --------------------------------------------------------------
const userDataDir = fs.mkdtempSync(path.join(TMP, 'chromium-profile-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1000, height: 900 },
  locale: 'en-GB',
  timezoneId: 'Europe/Berlin',
});
context.setDefaultTimeout(15000);

// A fresh page that records script errors, CSP violations and every request it makes.
// It returns once the page follows the event's changes (its stream logged its
// VIEW), unless `live` is false: then the stream is refused (as by a network
// that drops it), for the tests of a page that missed a change.
async function openPage(url, { live = true } = {}) {
  const page = await context.newPage();
  page.streamRoute = (u) => u.pathname.endsWith('/changes/');
  if (!live) {
    await page.route(page.streamRoute, (route) => route.abort());
  }
  page.problems = [];
  page.requests = [];
  page.on('request', (request) => page.requests.push(request));
  page.on('pageerror', (error) => page.problems.push('page error: ' + error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      page.problems.push('console: ' + message.text());
    }
  });
  page.mainResponse = await page.goto(url);
  await page.waitForSelector('#loading', { state: 'hidden' });
  await page.waitForFunction(() => {
    const badge = document.querySelector('#live');
    return badge.hidden || badge.dataset.state !== 'connecting';
  });
  return page;
}
async function liveState(page) {
  return page.evaluate(() => document.querySelector('#live').dataset.state || '');
}
function noProblems(page) {
  assert.deepEqual(page.problems, [], 'script errors or CSP violations on the page');
  // The mail link it was opened with is the only address that may carry the token.
  const leaks = page.requests.slice(1).map((r) => r.url()).filter((u) => /[?&]et=/.test(u));
  assert.deepEqual(leaks, [], 'the page built an address with the token');
}
async function problemText(page) {
  const box = page.locator('#problem');
  return (await box.isVisible()) ? (await box.textContent()).trim() : '';
}

// ---- scenarios ----------------------------------------------------------------
const SLOTS = [
  { begin: '2030-11-01T09:00:00Z', duration: '01:00' },
  { begin: '2030-11-02T14:30:00+02:00', duration: '00:30' },
  { begin: '2030-11-03T08:00:00Z', duration: 'PT1H30M' },
];
let event;      // the main event, created by the proposer
let annMail;    // Ann's mail with her link
let annPage;

await test('setup: the proposer creates an event (3 parties, 3 slots) and notifies Ann', async () => {
  event = await mustApi('POST', '/', { title: 'Quarterly review', parties: [PROPOSER, ANN, BOB], slots: SLOTS }, 201);
  assert.equal(event.slots.length, 3);
  await mustApi('POST', `/${event.id}/notify/`, { parties: [ANN], slots: event.slots }, 202);
  annMail = await waitForMail(ANN, event.id);
  assert.ok(annMail.token, 'the mail carries a link with a token');
});

await test('the link negotiates: browsers get the page (no VIEW logged), API clients keep JSON', async () => {
  const before = (await logEntries(event.id)).length;
  for (const urlPath of [`/${event.id}/?et=${annMail.token}`, `/${event.id}/log/?et=${annMail.token}`]) {
    const page = await fetch(BASE + urlPath, { headers: { Accept: BROWSER_ACCEPT } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(page.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
    assert.match(await page.text(), /<script src="\/static\/app\.[0-9a-f]{12}\.js" defer><\/script>/);
  }
  assert.equal((await logEntries(event.id)).length, before, 'serving the page logged something');
  for (const accept of ['application/json, */*;q=0.5', '*/*', null]) {
    const headers = accept ? { Accept: accept } : {};
    const response = await fetch(`${BASE}/${event.id}/?et=${annMail.token}`, { headers });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal((await response.json()).id, event.id);
  }
  // Those three JSON reads were views.
  assert.equal((await logEntries(event.id)).length, before + 3);
});

await test("Ann opens the link from her mail: title, parties and the three slots", async () => {
  annPage = await openPage(annMail.link);
  assert.equal(annPage.mainResponse.headers()['content-security-policy'].includes("frame-ancestors 'none'"), true);
  await annPage.waitForSelector('#event:not([hidden])');
  assert.equal((await annPage.textContent('#title')).trim(), 'Quarterly review');
  const parties = await annPage.textContent('#parties');
  for (const party of [PROPOSER, ANN, BOB]) {
    assert.ok(parties.includes(party), `party ${party} shown`);
  }
  assert.equal(await annPage.locator('#slots li').count(), 3);
  // Local time (Europe/Berlin: UTC+1 in November) with UTC beside it.
  const first = await annPage.locator('#slots li').first().textContent();
  assert.match(first, /10:00/, 'local time shown');
  assert.match(first, /09:00 UTC/, 'UTC time shown');
  assert.equal((await annPage.textContent('#me')).trim(), ANN, 'the page knows whose link it is');
  // The page's own GET logged a VIEW by Ann with her token.
  const views = (await logEntries(event.id)).filter((e) => e.occurrence === 'VIEW' && e.effector === ANN);
  assert.ok(views.length >= 1);
  noProblems(annPage);
});

await test('the address bar no longer holds the token', async () => {
  const url = new URL(annPage.url());
  assert.equal(url.search, '');
  assert.ok(!annPage.url().includes(annMail.token));
  assert.equal(url.pathname, `/${event.id}/`);
});

await test('Ann drops all but one slot and saves (PATCH)', async () => {
  const boxes = annPage.locator('#slots input[type="checkbox"]');
  await boxes.nth(1).uncheck();
  await boxes.nth(2).uncheck();
  await annPage.click('#save');
  await annPage.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Saved'));
  assert.equal(await annPage.locator('#slots li').count(), 1);
  assert.equal(await problemText(annPage), '');
  const timeline = await annPage.textContent('#log');
  assert.match(timeline, new RegExp(`${ANN} changed the event \\(with a mail link\\) · 1 slot`));
  noProblems(annPage);
});

await test('Ann notifies the proposer; the timeline shows the new entries', async () => {
  // Only the other parties are offered as recipients.
  assert.equal(await annPage.locator('#recipients input').count(), 2);
  assert.equal(await annPage.getByLabel(ANN, { exact: true }).count(), 0);
  await annPage.getByLabel(PROPOSER, { exact: true }).check();
  await annPage.click('#notify');
  await annPage.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Notified'));
  const first = await annPage.locator('#log li').first().textContent();
  assert.match(first, new RegExp(`${ANN} notified ${PROPOSER} \\(with a mail link\\) · 1 slot`));
  const timeline = await annPage.textContent('#log');
  assert.match(timeline, new RegExp(`${PROPOSER} created the event · 3 slots`));
  assert.match(timeline, new RegExp(`${PROPOSER} notified ${ANN} · 3 slots`));
  assert.equal(await problemText(annPage), '');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await annPage.screenshot({ path: path.join(ARTIFACTS, 'narrowed.png'), fullPage: true });
  noProblems(annPage);
});

await test('over the API: the event has one slot and a new mail went out to the proposer', async () => {
  const now = await mustApi('GET', `/${event.id}/`, undefined, 200);
  assert.deepEqual(now.slots, [event.slots[0]]);
  const mail = await waitForMail(PROPOSER, event.id);
  assert.match(mail.text, /^From:.*$/m);
  assert.ok(mail.link.includes(`/${event.id}/?et=`));
  const log = await logEntries(event.id);
  const notes = log.filter((e) => e.occurrence === 'NOTIFY' && e.effector === ANN && e.data.recipient === PROPOSER);
  assert.equal(notes.length, 1);
  assert.equal(log.filter((e) => e.occurrence === 'UPDATE' && e.effector === ANN).length, 1);
});

await test('stale slots: someone narrowed meanwhile, the page explains and shows the current slots', async () => {
  const page = await openPage(annMail.link, { live: false });
  await page.waitForSelector('#event:not([hidden])');
  assert.equal(await page.locator('#slots li').count(), 1);
  // The proposer extends the proposal behind Ann's back.
  await mustApi('PATCH', `/${event.id}/`, { slots: [event.slots[0], event.slots[2]] }, 202);
  await page.getByLabel(BOB, { exact: true }).check();
  await page.click('#notify');
  await page.waitForFunction(() => !document.querySelector('#problem').hidden);
  assert.equal(await problemText(page),
    'Someone changed the slots meanwhile; the page now shows the current ones — check and try again.');
  await page.waitForFunction(() => document.querySelectorAll('#slots li').length === 2);
  assert.equal(mailsTo(BOB, event.id).length, 0, 'no mail for a stale proposal');
  noProblems(page);
  await page.close();
});

await test('a save after someone else changed the event: 412, the new slots with her choice applied, saved again', async () => {
  const page = await openPage(annMail.link, { live: false });
  await page.waitForSelector('#event:not([hidden])');
  assert.equal(await page.locator('#slots li').count(), 2);
  // Ann drops the later slot; meanwhile the proposer offers all three again.
  await page.locator('#slots input[type="checkbox"]').nth(1).uncheck();
  await mustApi('PATCH', `/${event.id}/`, { slots: event.slots }, 202);
  await page.click('#save');
  await page.waitForFunction(() => document.querySelectorAll('#slots li').length === 3);
  assert.match(await problemText(page), /^Someone changed this event meanwhile: it now offers 3 slots/);
  const ticked = await page.locator('#slots input[type="checkbox"]').evaluateAll((boxes) => boxes.map((b) => b.checked));
  assert.deepEqual(ticked, [true, true, false], 'her dropped slot stays dropped in the new set');
  assert.deepEqual((await mustApi('GET', `/${event.id}/`, undefined, 200)).slots, event.slots, 'the 412 changed nothing');
  await page.click('#save');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Saved'));
  assert.deepEqual((await mustApi('GET', `/${event.id}/`, undefined, 200)).slots, [event.slots[0], event.slots[1]]);
  noProblems(page);
  await page.close();
});

await test('the page follows changes made elsewhere: shown within seconds, no reload, "live" badge', async () => {
  const page = await openPage(annMail.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal(await liveState(page), 'live');
  assert.equal((await page.textContent('#live')).trim(), 'live');
  const before = await mustApi('GET', `/${event.id}/`, undefined, 200);
  await page.screenshot({ path: path.join(ARTIFACTS, 'live-before.png') });
  const reads = () => page.requests.filter((r) => r.method() === 'GET' && new URL(r.url()).pathname === `/${event.id}/`).length;
  const readsBefore = reads();
  // Another client (the proposer, over the API) renames the event and offers one slot more.
  const started = Date.now();
  const extra = event.slots.find((slot) => !before.slots.some((kept) => kept.begin === slot.begin));
  assert.ok(extra, 'a slot of the proposal not offered now');
  await mustApi('PATCH', `/${event.id}/`, { title: 'Quarterly review (board room)', slots: [...before.slots, extra] }, 202);
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'Quarterly review (board room)',
    null, { timeout: 5000 });
  const took = Date.now() - started;
  assert.equal(await page.locator('#slots li').count(), before.slots.length + 1);
  assert.equal((await page.textContent('#status')).trim(), 'This event just changed: the page shows it as it is now.');
  assert.equal(reads(), readsBefore, 'the change came with the stream, not with another GET');
  await page.waitForFunction(() => document.querySelector('#log li').textContent.includes('renamed the event'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'live-after.png') });
  console.log(`      the change reached the page in ${took} ms`);
  // The stream carries the token in a header, never in its address.
  const stream = page.requests.find((r) => new URL(r.url()).pathname === `/${event.id}/changes/`);
  assert.ok(stream, 'the page opened the stream');
  assert.equal(new URL(stream.url()).search, '');
  assert.equal((await stream.allHeaders())['x-email-token'], annMail.token);
  noProblems(page);
  await page.close();

  // A stream that cannot get through: "reconnecting…", and no change shows
  // until it does; then the page catches up (Last-Event-ID: the version it
  // shows) and says "live".
  const cut = await openPage(annMail.link, { live: false });
  await cut.waitForSelector('#event:not([hidden])');
  assert.equal(await liveState(cut), 'reconnecting');
  assert.equal((await cut.textContent('#live')).trim(), 'reconnecting…');
  const shownReply = await api('GET', `/${event.id}/`);
  const shown = shownReply.data;
  await mustApi('PATCH', `/${event.id}/`, { title: 'Quarterly review (room 2)' }, 202);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await cut.textContent('#title')).trim(), shown.title, 'no stream, no change shown');
  await cut.unroute(cut.streamRoute);
  await cut.waitForFunction(() => document.querySelector('#title').textContent === 'Quarterly review (room 2)',
    null, { timeout: 40000 });
  await cut.waitForFunction(() => document.querySelector('#live').dataset.state === 'live');
  const resumed = cut.requests.filter((r) => new URL(r.url()).pathname === `/${event.id}/changes/`).pop();
  assert.equal((await resumed.allHeaders())['last-event-id'], shownReply.headers.get('etag').replace(/"/g, ''));
  // Back as it was for the tests below.
  await mustApi('PATCH', `/${event.id}/`, { title: before.title, slots: before.slots }, 202);
  await cut.waitForFunction((title) => document.querySelector('#title').textContent === title, before.title);
  noProblems(cut);
  await cut.close();
});

await test('an expired token shows the expiry sentence and no event data', async () => {
  await mustApi('POST', `/${event.id}/notify/`, { parties: [BOB], slots: (await mustApi('GET', `/${event.id}/`, undefined, 200)).slots }, 202);
  const bobMail = await waitForMail(BOB, event.id);
  const hash = createHash('sha256').update(bobMail.token).digest('hex');
  const updated = psql(`UPDATE notify.email_tokens SET expires_at = now() - interval '1 day' WHERE token_hash = '${hash}' RETURNING id`);
  assert.ok(updated, 'the token row was aged');
  const page = await openPage(bobMail.link);
  const text = await problemText(page);
  assert.match(text, /^This link expired on .+\. Ask .+ to notify you again for a fresh link\.$/);
  assert.ok(await page.locator('#event').isHidden());
  assert.ok(!(await page.content()).includes('Quarterly review'));
  assert.ok(!page.url().includes(bobMail.token));
  noProblems(page);
  await page.close();
});

await test('a token for another event shows no event data', async () => {
  const other = await mustApi('POST', '/', { title: 'Another thing', parties: [PROPOSER, CAROL], slots: SLOTS.slice(0, 1) }, 201);
  await mustApi('POST', `/${other.id}/notify/`, { parties: [CAROL], slots: other.slots }, 202);
  const carolMail = await waitForMail(CAROL, other.id);
  const page = await openPage(`${BASE}/${event.id}/?et=${carolMail.token}`);
  assert.equal(await problemText(page), 'This link does not open this event.');
  assert.ok(await page.locator('#event').isHidden());
  const html = await page.content();
  assert.ok(!html.includes('Quarterly review') && !html.includes(ANN), 'no data of the event shown');
  assert.equal(await page.locator('#slots li').count(), 0);
  noProblems(page);
  await page.close();
});

await test('without a token the page explains that it needs the link from the mail', async () => {
  const page = await openPage(`${BASE}/${event.id}/`);
  assert.match(await problemText(page), /needs the link from your calndro mail/);
  assert.ok(await page.locator('#event').isHidden());
  noProblems(page);
  await page.close();
});

await test('phone-sized screen and keyboard: no sideways scrolling, controls reachable with Tab and Space', async () => {
  const page = await openPage(annMail.link);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForSelector('#event:not([hidden])');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone.png'), fullPage: true });
  // The answers grid scrolls inside its box, never the page.
  assert.ok(await page.locator('#grid-wrap').isVisible());
  // Tab from the top reaches the first answer button (yes for the first slot),
  // then through the viewer's answer buttons to the first slot's checkbox;
  // Space toggles it.
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({ ...document.activeElement.dataset }));
  assert.deepEqual(first, { slot: '0', answer: 'yes' }, 'the first Tab stop is the first answer button');
  const answerButtons = await page.locator('#grid button.choice').count();
  assert.equal(answerButtons, 3 * (await page.locator('#slots input').count()));
  for (let i = 0; i < answerButtons; i += 1) {
    await page.keyboard.press('Tab');
  }
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.index);
  assert.equal(focused, '0', 'after the answer buttons, the first slot');
  await page.keyboard.press('Space');
  assert.equal(await page.locator('#slots input').first().isChecked(), false);
  // Then on to the save button, which is a real button.
  const count = await page.locator('#slots input').count();
  for (let i = 0; i < count; i += 1) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'save');
  noProblems(page);
  await page.close();
});

await test('the /ID/log/ link opens the same page at the history', async () => {
  const page = await openPage(`${BASE}/${event.id}/log/?et=${annMail.token}`);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'log-heading');
  assert.ok((await page.locator('#log li').count()) >= 5);
  assert.equal(new URL(page.url()).search, '');
  noProblems(page);
  await page.close();
});

// Agree and reopen: the creator's link offers them; another party's does not.
let agreeEvent;
let proposerMail;
let annAgreeMail;

await test('setup: a new event; Ann notifies the proposer, who gets a link of their own', async () => {
  agreeEvent = await mustApi('POST', '/', { title: 'Team dinner', parties: [PROPOSER, ANN], slots: SLOTS }, 201);
  assert.equal(agreeEvent.state, 'open');
  assert.equal(agreeEvent.agreed_slot, null);
  await mustApi('POST', `/${agreeEvent.id}/notify/`, { parties: [ANN], slots: agreeEvent.slots }, 202);
  annAgreeMail = await waitForMail(ANN, agreeEvent.id);
  const response = await fetch(`${BASE}/${agreeEvent.id}/notify/?et=${annAgreeMail.token}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ parties: [PROPOSER], slots: agreeEvent.slots }),
  });
  assert.equal(response.status, 202);
  proposerMail = await waitForMail(PROPOSER, agreeEvent.id);
});

await test("another party's page offers no agreement and says who may agree", async () => {
  const page = await openPage(annAgreeMail.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal(await page.locator('#slots button.agree').count(), 0);
  assert.equal((await page.textContent('#agree-hint')).trim(),
    `Only the creator of the event (${PROPOSER}) can agree on a time.`);
  assert.ok(await page.locator('#agreed').isHidden());
  assert.ok(await page.locator('#reopen').isHidden());
  noProblems(page);
  await page.close();
});

await test('the creator agrees on a slot: the agreed time comes first, with the calendar link', async () => {
  const page = await openPage(proposerMail.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal((await page.textContent('#me')).trim(), PROPOSER);
  assert.ok(await page.locator('#agree-hint').isHidden());
  assert.equal(await page.locator('#slots button.agree').count(), 3);
  await page.locator('#slots button.agree').nth(1).click();
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Agreed on'));
  assert.equal(await problemText(page), '');
  assert.ok(await page.locator('#agreed').isVisible());
  // Europe/Berlin: 14:30+02:00 is 12:30 UTC, 13:30 local in November.
  assert.match(await page.textContent('#agreed-local'), /13:30/);
  assert.match(await page.textContent('#agreed-utc'), /12:30 UTC/);
  // The agreed section precedes the slots.
  const order = await page.evaluate(() =>
    document.querySelector('#agreed').compareDocumentPosition(document.querySelector('#slots')) &
    Node.DOCUMENT_POSITION_FOLLOWING);
  assert.ok(order, 'the agreed time is shown before the slots');
  assert.equal(await page.locator('[href*="et="]').count(), 0, 'no link on the page carries the token');
  assert.equal(await page.locator('#slots li.chosen').count(), 1);
  assert.match(await page.locator('#slots li.chosen').textContent(), /Agreed/);
  assert.ok(await page.locator('#save').isHidden(), 'no narrowing while agreed');
  assert.ok(await page.locator('#reopen').isVisible());
  assert.match(await page.locator('#log li').first().textContent(),
    new RegExp(`${PROPOSER} agreed on .*13:30.* \\(with a mail link\\)`));
  const now = await mustApi('GET', `/${agreeEvent.id}/`, undefined, 200);
  assert.equal(now.state, 'agreed');
  assert.deepEqual(now.agreed_slot, agreeEvent.slots[1]);
  const agrees = (await logEntries(agreeEvent.id)).filter((e) => e.occurrence === 'AGREE');
  assert.equal(agrees.length, 1);
  assert.equal(agrees[0].effector, PROPOSER);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'agreed.png'), fullPage: true });
  noProblems(page);
  await page.close();
});

await test('the other party sees the agreed time, without agree or reopen', async () => {
  const page = await openPage(annAgreeMail.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.ok(await page.locator('#agreed').isVisible());
  assert.match(await page.textContent('#agreed-utc'), /12:30 UTC/);
  assert.ok(await page.locator('#reopen').isHidden());
  assert.equal(await page.locator('#slots button.agree').count(), 0);
  noProblems(page);
  await page.close();
});

await test('the calendar file downloads with the token in a header, never in an address', async () => {
  const page = await openPage(annAgreeMail.link);
  await page.waitForSelector('#agreed:not([hidden])');
  const before = (await logEntries(agreeEvent.id)).length;
  const [request, download] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname === `/${agreeEvent.id}/event.ics`),
    page.waitForEvent('download'),
    page.click('#ics'),
  ]);
  assert.equal(new URL(request.url()).search, '', 'the calendar request has no query');
  const headers = await request.allHeaders();
  assert.equal(headers['x-email-token'], annAgreeMail.token);
  assert.equal(download.suggestedFilename(), `calndro-${agreeEvent.id}.ics`);
  assert.ok(!download.url().includes(annAgreeMail.token), 'the download record holds no token');
  const ics = fs.readFileSync(await download.path(), 'utf8');
  assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
  assert.match(ics, /STATUS:CONFIRMED/);
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('The calendar file'));
  assert.equal(await problemText(page), '');
  // The download was a view by Ann with her mail link, like any other.
  const log = await logEntries(agreeEvent.id);
  assert.equal(log.length, before + 1);
  assert.equal(log[log.length - 1].occurrence, 'VIEW');
  assert.equal(log[log.length - 1].effector, ANN);
  noProblems(page);
  await page.close();
});

await test('the creator reopens: back to open, the slots can be narrowed again', async () => {
  const page = await openPage(proposerMail.link);
  await page.waitForSelector('#agreed:not([hidden])');
  await page.click('#reopen');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Reopened'));
  assert.equal(await problemText(page), '');
  assert.ok(await page.locator('#agreed').isHidden());
  assert.ok(await page.locator('#save').isVisible());
  assert.equal(await page.locator('#slots button.agree').count(), 3);
  assert.match(await page.locator('#log li').first().textContent(), new RegExp(`${PROPOSER} reopened the event`));
  const now = await mustApi('GET', `/${agreeEvent.id}/`, undefined, 200);
  assert.equal(now.state, 'open');
  assert.equal(now.agreed_slot, null);
  noProblems(page);
  await page.close();
});

// ---- answers: a grid of parties x slots ------------------------------------------
// The REST API as a token holder (the party the token was issued to).
async function tokenApi(method, urlPath, token, body) {
  const response = await fetch(BASE + urlPath, {
    method,
    headers: { 'X-Email-Token': token, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, data: text ? JSON.parse(text) : null };
}
// The grid as text: a row per party ({party, cells}), the tally cells, the column headings.
async function readGrid(page) {
  return page.evaluate(() => {
    const text = (node) => node.innerText.replace(/\s+/g, ' ').trim();
    return {
      heads: [...document.querySelectorAll('#grid-head th')].slice(1).map(text),
      rows: [...document.querySelectorAll('#grid-body tr')].map((row) => ({
        party: text(row.querySelector('th')),
        cells: [...row.querySelectorAll('td')].map(text),
      })),
      tally: [...document.querySelectorAll('#grid-tally td')].map(text),
      best: [...document.querySelectorAll('#grid-head th')].slice(1).map((th) => th.querySelector('.best-label') !== null),
    };
  });
}
function choice(page, slot, answer) {
  return page.locator(`#grid-body tr.mine button.choice[data-slot="${slot}"][data-answer="${answer}"]`);
}
// Presses an answer button and waits for the page to say it was saved.
async function press(page, slot, answer, saying) {
  await choice(page, slot, answer).click();
  await page.waitForFunction((start) => document.querySelector('#status').textContent.startsWith(start), saying);
  assert.equal(await problemText(page), '');
}
const tally = (yes, maybe, no, pending) => `${yes} yes ${maybe} if need be ${no} no ${pending} pending`;
// An instant as the browser (Europe/Berlin) shows it: the day and the time
// of day there, and the zone. Chromium's ICU may word the rest differently
// from node's, so only these parts are compared.
function inBerlin(instant) {
  const parts = (options) => new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'Europe/Berlin' }).format(instant);
  const time = parts({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return new RegExp(`${parts({ day: 'numeric' })} ${parts({ month: 'long' })} ${instant.getUTCFullYear()}.* ${time} CET$`);
}

let answerEvent;
let annAnswerMail;
let bobAnswerMail;
let proposerAnswerMail;

await test('setup: an event for answers; Ann and Bob get links, and Ann\'s notify gives the proposer one', async () => {
  answerEvent = await mustApi('POST', '/', { title: 'Planning day', parties: [PROPOSER, ANN, BOB], slots: SLOTS }, 201);
  assert.deepEqual(answerEvent.answers, {});
  assert.equal(answerEvent.best_slot, null);
  await mustApi('POST', `/${answerEvent.id}/notify/`, { parties: [ANN, BOB], slots: answerEvent.slots }, 202);
  annAnswerMail = await waitForMail(ANN, answerEvent.id);
  bobAnswerMail = await waitForMail(BOB, answerEvent.id);
  const sent = await tokenApi('POST', `/${answerEvent.id}/notify/`, annAnswerMail.token,
    { parties: [PROPOSER], slots: answerEvent.slots });
  assert.equal(sent.status, 202);
  proposerAnswerMail = await waitForMail(PROPOSER, answerEvent.id);
});

await test('Ann answers with the buttons: her row, the tally and the best slot follow, the whole set is PUT', async () => {
  const page = await openPage(annAnswerMail.link);
  await page.waitForSelector('#event:not([hidden])');
  let grid = await readGrid(page);
  assert.deepEqual(grid.rows.map((r) => r.party), [PROPOSER, `${ANN} (you)`, BOB], 'a row per party, in order');
  assert.equal(grid.heads.length, 3, 'a column per slot');
  assert.match(grid.heads[0], /Fri, 1 Nov 2030 10:00, 1 h/, 'slots in her time zone');
  assert.deepEqual(grid.rows[0].cells, ['? pending', '? pending', '? pending']);
  assert.deepEqual(grid.tally, [tally(0, 0, 0, 3), tally(0, 0, 0, 3), tally(0, 0, 0, 3)]);
  assert.deepEqual(grid.best, [false, false, false]);
  assert.equal((await page.textContent('#best-text')).trim(), 'No best slot yet: nobody has answered yes or if need be.');
  assert.equal(await page.locator('#grid-body tr.mine button.choice').count(), 9, 'her row: three buttons per slot');
  assert.equal(await page.locator('#grid button[aria-pressed="true"]').count(), 0);
  assert.ok(await page.locator('#agree-best').isHidden(), 'only the creator agrees');

  await press(page, 0, 'yes', 'Saved: yes for Fri, 1 Nov 2030, 10:00');
  assert.equal(await choice(page, 0, 'yes').getAttribute('aria-pressed'), 'true');
  grid = await readGrid(page);
  assert.deepEqual(grid.tally[0], tally(1, 0, 0, 2));
  assert.deepEqual(grid.best, [true, false, false], 'the best slot is labelled');
  assert.match(grid.heads[0], /★ Best/);
  assert.match(await page.textContent('#best-text'), /^Best slot so far: Fri, 1 Nov 2030, 10:00 – 11:00 CET \(1 yes, 0 if need be\)\.$/);
  assert.match(await page.locator('#slots li').first().textContent(), /Best so far/);

  const puts = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT') puts.push(request);
  });
  await press(page, 1, 'maybe', 'Saved: if need be for Sat, 2 Nov 2030, 13:30');
  await press(page, 2, 'no', 'Saved: no for Sun, 3 Nov 2030, 09:00');
  grid = await readGrid(page);
  assert.deepEqual(grid.tally, [tally(1, 0, 0, 2), tally(0, 1, 0, 2), tally(0, 0, 1, 2)]);
  // Each press sends her whole set, with If-Match and the token in its header.
  assert.equal(puts.length, 2);
  assert.equal(new URL(puts[1].url()).pathname, `/${answerEvent.id}/answers/`);
  const headers = await puts[1].allHeaders();
  assert.match(headers['if-match'], /^"\d+"$/);
  assert.equal(headers['x-email-token'], annAnswerMail.token);
  assert.deepEqual(JSON.parse(puts[1].postData()).answers.map((a) => a.answer), ['yes', 'maybe', 'no']);
  const now = await mustApi('GET', `/${answerEvent.id}/`, undefined, 200);
  assert.deepEqual(now.answers[ANN], [
    { slot: answerEvent.slots[0], answer: 'yes' },
    { slot: answerEvent.slots[1], answer: 'maybe' },
    { slot: answerEvent.slots[2], answer: 'no' },
  ]);
  assert.deepEqual(now.best_slot, answerEvent.slots[0]);

  // Pressing the pressed answer again takes it back.
  await press(page, 2, 'no', 'Took back your answer for Sun, 3 Nov 2030, 09:00');
  assert.equal(await choice(page, 2, 'no').getAttribute('aria-pressed'), 'false');
  assert.deepEqual((await readGrid(page)).tally[2], tally(0, 0, 0, 3));
  assert.equal((await mustApi('GET', `/${answerEvent.id}/`, undefined, 200)).answers[ANN].length, 2);
  assert.match(await page.textContent('#log'), new RegExp(`${ANN} answered: 1 yes, 1 if need be \\(with a mail link\\)`));
  noProblems(page);
  await page.close();
});

await test("Bob sees Ann's answers as words; his answers move the best slot", async () => {
  const page = await openPage(bobAnswerMail.link);
  await page.waitForSelector('#event:not([hidden])');
  let grid = await readGrid(page);
  const ann = grid.rows.find((r) => r.party === ANN);
  assert.deepEqual(ann.cells, ['✓ yes', '~ if need be', '? pending'], "Ann's row, as text");
  const classes = await page.locator('#grid-body tr').nth(1).locator('td').evaluateAll((cells) => cells.map((c) => c.className));
  assert.deepEqual(classes.map((c) => c.match(/ans-\w+/)[0]), ['ans-yes', 'ans-maybe', 'ans-pending']);
  assert.equal(await page.locator('#grid-body tr').nth(1).locator('button').count(), 0, "no buttons in Ann's row");
  await press(page, 1, 'yes', 'Saved: yes for Sat, 2 Nov 2030, 13:30');
  grid = await readGrid(page);
  assert.deepEqual(grid.best, [false, true, false], 'one yes and one if need be beat one yes');
  assert.match(await page.textContent('#best-text'), /^Best slot so far: Sat, 2 Nov 2030, 13:30 – 14:00 CET \(1 yes, 1 if need be\)\.$/);
  assert.deepEqual((await mustApi('GET', `/${answerEvent.id}/`, undefined, 200)).best_slot, answerEvent.slots[1]);
  noProblems(page);
  await page.close();
});

await test('an answer on a stale page (412): not saved, the page reloads and says so; the next press works', async () => {
  const page = await openPage(bobAnswerMail.link, { live: false });
  await page.waitForSelector('#event:not([hidden])');
  await mustApi('PATCH', `/${answerEvent.id}/`, { title: 'Planning day (room 4)' }, 202);
  await choice(page, 0, 'maybe').click();
  await page.waitForFunction(() => !document.querySelector('#problem').hidden);
  assert.equal(await problemText(page), 'Someone changed this event meanwhile, so your answer was not saved. ' +
    'The page now shows the event as it is: check and answer again.');
  assert.equal((await page.textContent('#title')).trim(), 'Planning day (room 4)', 'reloaded');
  assert.equal((await mustApi('GET', `/${answerEvent.id}/`, undefined, 200)).answers[BOB].length, 1, 'nothing saved');
  await press(page, 0, 'maybe', 'Saved: if need be for Fri, 1 Nov 2030, 10:00');
  assert.equal((await mustApi('GET', `/${answerEvent.id}/`, undefined, 200)).answers[BOB].length, 2);
  noProblems(page);
  await page.close();
});

await test('the creator sees every row, answers too, and agrees on the best slot from the page', async () => {
  const page = await openPage(proposerAnswerMail.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal((await page.textContent('#me')).trim(), PROPOSER);
  await press(page, 1, 'yes', 'Saved: yes for Sat, 2 Nov 2030, 13:30');
  const grid = await readGrid(page);
  assert.deepEqual(grid.rows.map((r) => r.party), [`${PROPOSER} (you)`, ANN, BOB]);
  assert.deepEqual(grid.rows[2].cells, ['~ if need be', '✓ yes', '? pending']);
  assert.deepEqual(grid.tally, [tally(1, 1, 0, 1), tally(2, 1, 0, 0), tally(0, 0, 0, 3)]);
  assert.deepEqual(grid.best, [false, true, false]);
  assert.ok(await page.locator('#agree-best').isVisible(), "the creator's Agree beside the best slot");
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // The grid with a margin of the card around it.
  const box = await page.locator('#answers').boundingBox();
  await page.screenshot({
    path: path.join(ARTIFACTS, 'answers.png'),
    clip: { x: box.x - 16, y: box.y - 4, width: box.width + 32, height: box.height + 20 },
  });
  await page.click('#agree-best');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Agreed on'));
  assert.equal(await problemText(page), '');
  assert.match(await page.textContent('#agreed-local'), /13:30/);
  // While agreed nobody answers: the grid stays, as words.
  assert.equal(await page.locator('#grid button.choice').count(), 0);
  assert.match(await page.textContent('#answer-hint'), /^The time is agreed: answers are closed/);
  assert.ok(await page.locator('#agree-best').isHidden());
  const now = await mustApi('GET', `/${answerEvent.id}/`, undefined, 200);
  assert.equal(now.state, 'agreed');
  assert.deepEqual(now.agreed_slot, answerEvent.slots[1]);
  const agrees = (await logEntries(answerEvent.id)).filter((e) => e.occurrence === 'AGREE');
  assert.equal(agrees.length, 1);
  assert.equal(agrees[0].effector, PROPOSER);
  noProblems(page);
  await page.close();
});

// An event whose deadline is a few seconds away: Ann's page says when, in her
// zone; once it has passed, her answers are closed and the creator's are not.
let deadlineEvent;
let annDeadlineMail;
let proposerDeadlineMail;

await test('the deadline in the viewer\'s time zone; when it passes, a party\'s buttons go and the page says answers closed', async () => {
  const respondBy = new Date(Date.now() + 10000).toISOString();
  deadlineEvent = await mustApi('POST', '/',
    { title: 'Deadline day', parties: [PROPOSER, ANN], slots: SLOTS, respond_by: respondBy }, 201);
  const deadline = new Date(deadlineEvent.respond_by);
  assert.ok(Math.abs(deadline - new Date(respondBy)) < 1000);
  await mustApi('POST', `/${deadlineEvent.id}/notify/`, { parties: [ANN], slots: deadlineEvent.slots }, 202);
  annDeadlineMail = await waitForMail(ANN, deadlineEvent.id);
  const sent = await tokenApi('POST', `/${deadlineEvent.id}/notify/`, annDeadlineMail.token,
    { parties: [PROPOSER], slots: deadlineEvent.slots });
  assert.equal(sent.status, 202);
  proposerDeadlineMail = await waitForMail(PROPOSER, deadlineEvent.id);
  assert.ok(Date.now() < deadline.getTime() - 1500, 'setup took too long for this test');
  const page = await openPage(annDeadlineMail.link);
  await page.waitForSelector('#event:not([hidden])');
  const shown = (await page.textContent('#deadline')).trim();
  assert.match(shown, /^Answer by .+\.$/);
  assert.match(shown.slice(0, -1), inBerlin(deadline), `${shown}: the deadline in her time zone`);
  assert.equal(await page.locator('#grid-body tr.mine button.choice').count(), 9);
  // The page closes her row by itself when the deadline passes.
  await page.waitForFunction(() => document.querySelector('#deadline').textContent.startsWith('Answers closed'),
    undefined, { timeout: 15000 });
  assert.equal((await page.textContent('#deadline')).trim(), shown.replace(/^Answer by/, 'Answers closed on'));
  assert.equal(await page.locator('#grid button.choice').count(), 0, 'no answer buttons after the deadline');
  assert.deepEqual((await readGrid(page)).rows.find((r) => r.party === `${ANN} (you)`).cells,
    ['? pending', '? pending', '? pending']);
  // The service agrees: her answer is refused.
  const refused = await tokenApi('PUT', `/${deadlineEvent.id}/answers/`, annDeadlineMail.token,
    { answers: [{ slot: deadlineEvent.slots[0], answer: 'yes' }] });
  assert.equal(refused.status, 409);
  assert.match(refused.data.detail, /^Answers closed at /);
  noProblems(page);
  await page.close();
});

await test('after the deadline the creator can still answer, and the page says so', async () => {
  const page = await openPage(proposerDeadlineMail.link);
  await page.waitForSelector('#event:not([hidden])');
  const shown = (await page.textContent('#deadline')).trim();
  assert.match(shown, /^Answers closed for the others on (.+); as the creator you can still change yours\.$/);
  assert.match(/ on (.+);/.exec(shown)[1], inBerlin(new Date(deadlineEvent.respond_by)));
  await press(page, 0, 'yes', 'Saved: yes for Fri, 1 Nov 2030, 10:00');
  assert.deepEqual((await mustApi('GET', `/${deadlineEvent.id}/`, undefined, 200)).answers[PROPOSER],
    [{ slot: deadlineEvent.slots[0], answer: 'yes' }]);
  noProblems(page);
  await page.close();
});

await test("a page whose clock is behind: the service's 409 detail is shown and the page reloads", async () => {
  // A browser of its own: its clock runs an hour late, so the page still
  // offers Ann's buttons after the deadline.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const late = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    await late.clock.setFixedTime(Date.now() - 3600 * 1000);
    const page = await late.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(annDeadlineMail.link);
    await page.waitForSelector('#event:not([hidden])');
    assert.match(await page.textContent('#deadline'), /^Answer by /, 'the page believes the deadline is ahead');
    await choice(page, 0, 'yes').click();
    await page.waitForFunction(() => !document.querySelector('#problem').hidden);
    assert.match(await problemText(page), /^Answers closed at .+ The page now shows it as it is\.$/);
    assert.equal((await mustApi('GET', `/${deadlineEvent.id}/`, undefined, 200)).answers[ANN], undefined);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

await test('hidden answers: a party sees only their own row, with a sentence saying why, and the tally of all', async () => {
  const hidden = await mustApi('POST', '/',
    { title: 'Secret ballot', parties: [PROPOSER, ANN, BOB], slots: SLOTS, hide_answers: true }, 201);
  assert.equal(hidden.hide_answers, true);
  await mustApi('POST', `/${hidden.id}/notify/`, { parties: [ANN, BOB], slots: hidden.slots }, 202);
  const annHidden = await waitForMail(ANN, hidden.id);
  const bobHidden = await waitForMail(BOB, hidden.id);
  const bob = await tokenApi('PUT', `/${hidden.id}/answers/`, bobHidden.token,
    { answers: [{ slot: hidden.slots[2], answer: 'yes' }] });
  assert.equal(bob.status, 200);
  const page = await openPage(annHidden.link);
  await page.waitForSelector('#event:not([hidden])');
  assert.equal((await page.textContent('#answers-private')).trim(),
    'The creator keeps the answers private: you see only your own row, and the tally of everyone’s answers.');
  let grid = await readGrid(page);
  assert.deepEqual(grid.rows.map((r) => r.party), [`${ANN} (you)`], 'only her own row');
  assert.deepEqual(grid.tally[2], tally(1, 0, 0, 2), "Bob's answer counts in the tally");
  assert.deepEqual(grid.best, [false, false, true]);
  await press(page, 0, 'no', 'Saved: no for Fri, 1 Nov 2030, 10:00');
  grid = await readGrid(page);
  assert.deepEqual(grid.rows.map((r) => r.party), [`${ANN} (you)`]);
  assert.deepEqual(grid.tally[0], tally(0, 0, 1, 2));
  assert.match(await page.textContent('#log'), new RegExp(`${BOB} answered \\(kept private\\)`));
  assert.ok(!(await page.textContent('#grid')).includes(BOB), "Bob's row is not shown");
  noProblems(page);
  await page.close();
  // The creator, over the API, sees both rows.
  const all = await mustApi('GET', `/${hidden.id}/`, undefined, 200);
  assert.deepEqual(Object.keys(all.answers).sort(), [ANN, BOB]);
});

await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
