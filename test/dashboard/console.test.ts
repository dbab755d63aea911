/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console end to end in headless Chromium, per role (issue 16's "Done when"): an admin creates a campaign, its
 * tracking number and two buyer targets through the forms (a refused input shows the API's message next to its
 * field); a call placed through the FreeSWITCH peer is refused by the first buyer (busy) and answered by the
 * second; the admin finds it in the call log, its trace says who refused and who answered, and the trace, the log
 * and the report show the same dollars as the ledger (read here from the ledger tables). At phone width the page
 * does not overflow. The seller sees its call and its payout, the buyer its own targets (and changes its bid), the
 * agent watches without the management views.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApiKey } from '../../app/store/api-keys';
import { dollars } from '../../app/dashboard/format';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';
import type { ExchangeNode } from '../../app/exchange-node';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const DID = '+18885550490';
const ACME_PHONE = '+15551230091';
const ZENITH_PHONE = '+15551230092';
const ANI = '+18135559090';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let browser: Browser;
let outDir: string;
const keys = {} as Record<'admin' | 'agent' | 'seller' | 'buyer', string>;
let callId: string;
/** the call's ledger postings, from the ledger tables: account -> cents */
const ledger = new Map<string, number>();

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The console's end-to-end test needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callx-console-'));
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'app', 'dashboard', 'vite.config.mjs'), '--outDir', outDir, '--emptyOutDir'], { cwd: ROOT });
  infra = await createTestInfra('console');
  await seedAccount(infra.pool, { id: 'sunco', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'acme', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'zenith', kind: 'buyer' });
  harness = new FreeSwitchHarness({ DASHBOARD_DIR: outDir });
  node = await harness.start(infra);
  harness.setBuyer(ACME_PHONE, { kind: 'busy', afterMs: 50 });
  harness.setBuyer(ZENITH_PHONE, { kind: 'answer', afterMs: 50 });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'sunco' })).key;
  keys.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'zenith' })).key;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
  await infra?.cleanup();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

/** A fresh browser context (its own sessionStorage) logged in with `key`, on `view`. */
async function logIn(key: string, view = 'overview', viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`http://127.0.0.1:${node.httpPort}/dashboard/#${view}`);
  await page.fill('#api-key', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible', timeout: 30_000 });
  await page.waitForSelector(`#view-${view}:not([hidden])`, { timeout: 30_000 });
  return page;
}

/** Fills a form field whether the console drew it as a select (from a list) or a text input. */
async function setField(page: Page, formId: string, name: string, value: string): Promise<void> {
  const sel = `#${formId} [name="${name}"]`;
  const tag = await page.locator(sel).evaluate((e) => e.tagName);
  if (tag === 'SELECT') await page.selectOption(sel, value);
  else if ((await page.locator(sel).getAttribute('type')) === 'checkbox') await page.setChecked(sel, value === 'true');
  else await page.fill(sel, value);
}

/** Submits a form with these fields and returns its success message (fails with the form's errors). */
async function submit(page: Page, formId: string, fields: Record<string, string>): Promise<string> {
  for (const [k, v] of Object.entries(fields)) await setField(page, formId, k, v);
  await page.click(`#${formId} button[type=submit]`);
  await page.waitForFunction((id) => {
    const f = document.getElementById(id)!;
    return Boolean(f.querySelector('.form-ok')?.textContent) || Boolean(f.querySelector('.form-error')?.textContent) || [...f.querySelectorAll('.field-error')].some((e) => e.textContent);
  }, formId, { timeout: 20_000 });
  const ok = await page.textContent(`#${formId} .form-ok`);
  if (!ok) throw new Error(`${formId} refused: ${await page.locator(`#${formId} .form-error, #${formId} .field-error`).allTextContents()}`);
  return ok;
}

async function settle<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A table row's cells by class. */
const rowCells = (page: Page, selector: string): Promise<Record<string, string> | null> =>
  page.evaluate((s) => {
    const tr = document.querySelector<HTMLTableRowElement>(s);
    if (!tr) return null;
    const out: Record<string, string> = {};
    for (const td of tr.cells) if (td.classList.length) out[td.classList[0]!] = td.textContent ?? '';
    return out;
  }, selector);

it('an admin builds a campaign, its number and two buyer targets through the forms; a refused input is explained next to its field', async () => {
  const page = await logIn(keys.admin, 'campaigns-admin');
  expect(await page.textContent('#whoami')).toBe('admin');
  expect(await submit(page, 'campaign-form', { id: 'solar', name: 'Solar FL', sellerAccountId: 'sunco', floorCents: '10.00', payoutCents: '6.00' })).toContain('solar');
  expect(await submit(page, 'number-form', { campaignId: 'solar', did: DID })).toContain(DID);
  await page.click('#nav a[data-view="targets"]');
  await page.waitForSelector('#view-targets:not([hidden]) #target-form');
  // The API refuses a destination neither switch can dial: its message appears under that field.
  for (const [k, v] of Object.entries({ id: 'bad', name: 'Bad', buyerAccountId: 'acme', campaignId: 'solar', bidCents: '30', destination: 'not a destination' })) await setField(page, 'target-form', k, v);
  await page.click('#target-form button[type=submit]');
  await settle(() => page.textContent('#target-form .field-error[data-field="destination"]'), (t) => expect(t).toContain('SIP URI'));
  expect(await page.textContent('#target-form .form-ok')).toBe('');
  // A bid that is not an amount is caught before it is sent.
  await setField(page, 'target-form', 'bidCents', 'thirty');
  await page.click('#target-form button[type=submit]');
  await settle(() => page.textContent('#target-form .field-error[data-field="bidCents"]'), (t) => expect(t).toContain('dollars'));

  expect(await submit(page, 'target-form', { id: 'acme-solar', name: 'Acme solar', buyerAccountId: 'acme', campaignId: 'solar', bidCents: '30.00', destination: ACME_PHONE, convertOnSeconds: '0' })).toContain('$30.00');
  expect(await submit(page, 'target-form', { id: 'zenith-solar', name: 'Zenith solar', buyerAccountId: 'zenith', campaignId: 'solar', bidCents: '25', destination: ZENITH_PHONE, convertOnSeconds: '0', capDaily: '100' })).toContain('$25.00');
  const { rows } = await infra.pool.query('SELECT id, bid_cents::int AS bid, cap_daily, convert_on_seconds FROM buyer_targets ORDER BY id');
  expect(rows).toEqual([{ id: 'acme-solar', bid: 3000, cap_daily: null, convert_on_seconds: 0 }, { id: 'zenith-solar', bid: 2500, cap_daily: 100, convert_on_seconds: 0 }]);
  await page.close();
}, 120_000);

it('a call the first buyer refuses and the second answers: the log, the trace and the report show the ledger\'s dollars', async () => {
  const placed = await harness.placeCall({ ani: ANI, dnis: DID, hangupAfterBridgeMs: 800 }).finished;
  expect(placed.bridgedTo).toContain(ZENITH_PHONE);
  callId = (await settle(async () => {
    await node.recorder?.drain();
    const r = await infra.pool.query('SELECT t.call_id FROM ledger_transactions t JOIN calls c ON c.id = t.call_id WHERE c.ani = $1', [ANI]);
    return r.rows[0]?.call_id as string | undefined;
  }, (id) => expect(id).toBeDefined()))!;
  const { rows } = await infra.pool.query('SELECT e.account_id, sum(e.amount_cents)::int AS cents FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.call_id = $1 GROUP BY 1', [callId]);
  for (const r of rows) ledger.set(r.account_id, r.cents);
  const charged = -ledger.get('zenith')!;
  const paid = ledger.get('sunco')!;
  expect(charged).toBeGreaterThan(0);
  expect(paid).toBe(600);

  const page = await logIn(keys.admin, 'calls');
  await page.fill('#log-filters [name="number"]', ANI);
  await page.click('#log-filters button[type=submit]');
  const row = `#log tbody tr[data-call-id="${callId}"]`;
  await settle(() => rowCells(page, row), (r) => expect(r).toMatchObject({ caller: ANI, campaign: 'solar', status: 'paid', buyer: 'zenith', price: dollars(charged) }));
  expect(await page.locator('#log tbody tr').count()).toBe(1);

  await page.click(row);
  await page.waitForSelector('#trace table.trace-ranked');
  const ranked = await page.locator('#trace table.trace-ranked tbody tr').allTextContents();
  expect(ranked).toEqual([expect.stringContaining('offered to acme: refused (busy)'), expect.stringContaining('answered by zenith')]);
  expect(ranked.join(' ')).not.toMatch(/won/);
  expect(await page.textContent('#trace .trace-summary')).toContain(`answered by zenith at ${dollars(charged)}`);
  expect(await page.textContent('#trace .trace-billing')).toBe(`Converted: buyer charged ${dollars(charged)}, seller paid ${dollars(paid)}, margin ${dollars(charged - paid)}.`);
  const postings = await page.$$eval('#trace table.trace-postings tbody tr', (trs) => trs.map((tr) => [tr.querySelector('.account')?.textContent ?? '', tr.querySelector('.amount')?.textContent ?? ''] as [string, string]));
  expect(Object.fromEntries(postings.filter(([a]) => a === 'zenith' || a === 'sunco'))).toEqual({ zenith: dollars(-charged), sunco: dollars(paid) });

  await page.click('#nav a[data-view="reports"]');
  await settle(() => rowCells(page, '#report tbody tr[data-key="solar"]'), (r) => expect(r).toEqual({ key: 'solar', calls: '1', bridged: '1', conversions: '1', revenue: dollars(charged), payout: dollars(paid), margin: dollars(charged - paid) }));

  // The overview's cards and chart read the same report: the same dollars.
  await page.click('#nav a[data-view="overview"]');
  await settle(() => rowCells(page, '#campaigns tbody tr[data-campaign="solar"]'), (r) => expect(r).toMatchObject({ calls: '1', revenue: dollars(charged) }));
  expect(await page.evaluate(() => document.querySelector<SVGElement>('#chart')!.dataset.totalRevenueCents)).toBe(String(charged));
  await page.close();
}, 120_000);

it('an admin tops up a buyer and uploads a DNC list, watching its progress', async () => {
  const page = await logIn(keys.admin, 'money');
  expect(await submit(page, 'adjustment-form', { accountId: 'acme', amountCents: '50', memo: 'top-up by wire' })).toContain('$50.00');
  const { rows } = await infra.pool.query("SELECT e.amount_cents::int AS c FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.kind = 'adjustment' AND e.account_id = 'acme'");
  expect(rows).toEqual([{ c: 5000 }]);
  await page.click('#nav a[data-view="lists"]');
  await page.waitForSelector('#view-lists:not([hidden]) #upload-form');
  await page.fill('#upload-form [name="list"]', 'global');
  await page.setInputFiles('#upload-form [name="file"]', { name: 'dnc.csv', mimeType: 'text/csv', buffer: Buffer.from('number\n+13125550180\n+13125550181\nnot-a-number\n') });
  await page.click('#upload-form button[type=submit]');
  await settle(() => page.textContent('#upload-form .form-ok'), (t) => expect(t).toMatch(/^2 of \d lines added to global; 1 refused\.$/));
  expect(await page.evaluate(() => document.querySelector<HTMLProgressElement>('#upload-progress')!.value)).toBe(100);
  expect(await page.locator('#upload-result table.rejected-lines tbody tr').count()).toBe(1);
  expect((await infra.pool.query("SELECT number FROM dnc_entries WHERE list_id = 'global' ORDER BY number")).rows.map((r) => r.number)).toEqual(['+13125550180', '+13125550181']);
  await page.close();
}, 60_000);

it('fits a phone: nothing wider than the screen, tables scroll inside their card', async () => {
  const page = await logIn(keys.admin, 'calls', { width: 375, height: 812 });
  await page.waitForSelector('#log tbody tr');
  for (const view of ['calls', 'overview', 'reports', 'targets']) {
    await page.click(`#nav a[data-view="${view}"]`);
    await page.waitForSelector(`#view-${view}:not([hidden]) table`);
    expect({ view, width: await page.evaluate(() => document.documentElement.scrollWidth) }).toEqual({ view, width: 375 });
  }
  await page.close();
}, 60_000);

it('a seller sees its call and its payout, without the buyer side or the platform\'s views', async () => {
  const page = await logIn(keys.seller, 'calls');
  expect(await page.locator('#nav a').allTextContents()).not.toContain('Accounts');
  await settle(() => rowCells(page, `#log tbody tr[data-call-id="${callId}"]`), (r) => expect(r).toMatchObject({ caller: ANI, buyer: '', price: '' }));
  await page.click('#nav a[data-view="reports"]');
  await settle(() => rowCells(page, '#report tbody tr[data-key="solar"]'), (r) => expect(r).toEqual({ key: 'solar', calls: '1', bridged: '1', conversions: '1', payout: dollars(ledger.get('sunco')) }));
  await page.close();
}, 60_000);

it('a buyer manages its own targets and bid, and sees the call it answered', async () => {
  const page = await logIn(keys.buyer, 'targets');
  const listed = await page.locator('#targets-list tbody tr').allTextContents();
  expect(listed).toEqual([expect.stringContaining('zenith-solar')]);
  expect(await submit(page, 'bid-form', { targetId: 'zenith-solar', bidCents: '27.50' })).toContain('$27.50');
  expect((await infra.pool.query("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 'zenith-solar'")).rows[0].b).toBe(2750);
  // Caps and schedule through the edit form: only the fields filled in change.
  expect(await submit(page, 'target-edit-form', { targetId: 'zenith-solar', capHourly: '5', schedule: '{"timeZone": "America/New_York", "hours": {"1": [[540, 1020]]}}' })).toContain('saved');
  expect((await infra.pool.query("SELECT cap_hourly, cap_daily, schedule->>'timeZone' AS tz, destination FROM buyer_targets WHERE id = 'zenith-solar'")).rows[0]).toEqual({ cap_hourly: 5, cap_daily: 100, tz: 'America/New_York', destination: ZENITH_PHONE });
  await page.click('#nav a[data-view="calls"]');
  await settle(() => rowCells(page, `#log tbody tr[data-call-id="${callId}"]`), (r) => expect(r).toMatchObject({ buyer: 'zenith', price: dollars(-ledger.get('zenith')!) }));
  await page.close();
}, 60_000);

it('an agent watches: calls, log and reports, no forms', async () => {
  const page = await logIn(keys.agent);
  expect(await page.locator('#nav a').allTextContents()).toEqual(['Overview', 'Call log', 'Reports', 'Campaigns', 'Buyer targets']);
  await page.click('#nav a[data-view="targets"]');
  await page.waitForSelector('#view-targets:not([hidden]) #targets-list table');
  expect(await page.locator('#view-targets form').count()).toBe(0);
  await page.close();
}, 60_000);
