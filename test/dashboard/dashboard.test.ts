/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard end to end in headless Chromium (Debian's chromium, driven by playwright-core): the page is built
 * with Vite and served by a real node; an agent logs in with an API key, a call placed through the FreeSWITCH
 * peer appears in the live table and ends with its buyer and price, the campaign's counters and the last-hour
 * chart count it, and selecting it shows its decision trace. A wrong key is refused on the page.
 *
 * Needs Chromium: CHROMIUM_PATH (default /usr/bin/chromium); on Debian `apt-get install chromium` (.ci/run does).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';
import type { PlacedCall } from '../e2e/harness';
import { startTestNode } from '../support/node';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const DID = '+18885550480';
const BUYER = '+15551230081';
const ANI = '+18135558080';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let browser: Browser;
let page: Page;
let agentKey: string;
let outDir: string;
/** a call the test holds up: hung up in afterAll if the test failed before hanging it up */
let heldCall: PlacedCall | undefined;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`The dashboard's end-to-end test needs Chromium, and there is none at ${CHROMIUM} (${process.env.CHROMIUM_PATH ? 'from CHROMIUM_PATH' : 'the default: CHROMIUM_PATH is unset'}): install it (Debian: apt-get install -y --no-install-recommends chromium; .ci/run does) or set CHROMIUM_PATH to a Chromium binary`);
  }
  // The dashboard as `npm run build` makes it, into a directory of this test's own.
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callx-dashboard-'));
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'app', 'dashboard', 'vite.config.mjs'), '--outDir', outDir, '--emptyOutDir'], { cwd: ROOT });

  infra = await createTestInfra('dashboard');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'acme', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'solar', sellerId: 'seller', dids: [DID], floorCents: 1000 });
  await seedTarget(infra.pool, { id: 'acme-solar', buyerId: 'acme', campaignId: 'solar', bidCents: 2500, destination: BUYER, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness({ DASHBOARD_DIR: outDir });
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 50 });
  agentKey = (await createApiKey(infra.pool, { role: 'agent' })).key;

  // Without the background-networking flags Chromium hangs on a closed network. playwright-core gives each
  // launch a fresh temporary --user-data-dir of its own (and removes it on close); it refuses one in `args`.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  heldCall?.hangup();
  await browser?.close();
  await harness?.stop();
  await infra?.cleanup();
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

const url = (): string => `http://127.0.0.1:${node.httpPort}/dashboard/`;

it('refuses a wrong key on the page', async () => {
  await page.goto(url());
  await page.fill('#api-key', 'cx_not-a-real-key');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '').includes('refused'), undefined, { timeout: 15_000 });
  expect(await page.isVisible('#app')).toBe(false);
});

/** The text of each cell of the live table's row for `ani`, by class (status, buyer, price, duration), and the row's state. */
function callRow(page: Page, ani: string): Promise<Record<string, string> | null> {
  return page.evaluate((a) => {
    const tr = [...document.querySelectorAll<HTMLTableRowElement>('#calls tbody tr')].find((r) => r.cells[1]?.textContent === a);
    if (!tr) return null;
    const out: Record<string, string> = { state: tr.dataset.state ?? '' };
    for (const td of tr.cells) if (td.classList.length) out[td.classList[0]!] = td.textContent ?? '';
    return out;
  }, ani);
}

/** The counters table's row for `campaign`, by class (live, calls, bridged, conversions, revenue). */
function campaignRow(page: Page, campaign: string): Promise<Record<string, string> | null> {
  return page.evaluate((c) => {
    const tr = document.querySelector<HTMLTableRowElement>(`#campaigns tbody tr[data-campaign="${c}"]`);
    if (!tr) return null;
    const out: Record<string, string> = {};
    for (const td of tr.cells) if (td.className) out[td.className] = td.textContent ?? '';
    return out;
  }, campaign);
}

/**
 * Reads `read()` until `check` passes on it (then returns it) or `timeoutMs` runs out (then fails with the last
 * assertion, which shows what the page had). Every wait here is on a condition, with a generous limit: the
 * page, the node and Chromium share two cores with whatever else runs.
 */
async function settle<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

it('shows a call placed through the switch arrive live, end with its buyer and price, in the counters and chart, and its trace', async () => {
  await page.goto(url());
  await page.fill('#api-key', agentKey);
  await page.click('button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible', timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('#live-status')?.textContent === 'live', undefined, { timeout: 20_000 });
  expect(await page.textContent('#whoami')).toBe('agent');
  expect(await page.evaluate(() => sessionStorage.getItem('callx.apiKey'))).toBe(agentKey);

  // The caller stays on the line until the test hangs up: the page must show the call while it is up.
  const call = (heldCall = harness.placeCall({ ani: ANI, dnis: DID }));
  // Up: talking with the buyer that answered.
  await settle(() => callRow(page, ANI), (row) => expect(row).toMatchObject({ state: 'live', status: 'talking with acme', buyer: 'acme', price: '$10.00', duration: '' }));
  await settle(() => campaignRow(page, 'solar'), (row) => expect(row).toMatchObject({ live: '1' }));

  call.hangup();
  heldCall = undefined;
  await call.finished;
  // It ends: the outcome, the buyer, the price it pays (a lone bidder pays the floor) and the duration; once billed
  // (the target converts at once) it says paid.
  await settle(() => callRow(page, ANI), (row) => expect(row).toMatchObject({ state: 'ended', status: expect.stringMatching(/^(completed|converted|paid)$/), buyer: 'acme', price: '$10.00', duration: expect.stringMatching(/^\d+ s$/) }));
  await settle(() => callRow(page, ANI), (row) => expect(row).toMatchObject({ state: 'ended', status: 'paid', buyer: 'acme', price: '$10.00' }), 30_000);

  // The counters and the chart come from the recorded and billed call (the target converts at once).
  await settle(() => campaignRow(page, 'solar'), (row) => expect(row).toEqual({ live: '0', calls: '1', bridged: '1', conversions: '1', revenue: '$10.00' }), 30_000);
  const chart = (): Promise<Array<string | undefined>> => page.evaluate(() => {
    const d = document.querySelector<SVGElement>('#chart')?.dataset;
    return [d?.totalCalls, d?.totalRevenueCents];
  });
  await settle(chart, (totals) => expect(totals).toEqual(['1', '1000']), 30_000);
  expect(await page.locator('#chart rect.calls').count()).toBe(1);

  // Selecting the call shows why it went where it went.
  await page.locator('#calls tbody tr', { hasText: ANI }).click();
  await page.locator('#trace table.trace-ranked').waitFor({ timeout: 20_000 });
  const ranked = await page.locator('#trace table.trace-ranked tbody tr').allTextContents();
  expect(ranked).toHaveLength(1);
  expect(ranked[0]).toContain('acme-solar');
  expect(ranked[0]).toContain('$25.00');
  expect(ranked[0]).toContain('answered by acme');
  expect(await page.textContent('#trace .trace-summary')).toContain('answered by acme at $10.00');
  const screening = await page.locator('#trace table.trace-screening tbody tr').allTextContents();
  expect(screening.length).toBeGreaterThan(0);
  expect(screening.every((r) => r.includes('pass'))).toBe(true);
  expect(await page.locator('#trace table.trace-attempts tbody tr').allTextContents()).toEqual([expect.stringContaining('acme-solar')]);

  // The key lasts for the tab: a reload stays logged in and lists the recorded call; logging out forgets it.
  await page.reload();
  await page.waitForSelector('#app', { state: 'visible', timeout: 20_000 });
  await settle(() => callRow(page, ANI), (row) => expect(row).toMatchObject({ state: 'ended', status: expect.stringMatching(/^(completed|converted|paid)$/), buyer: 'acme', price: '$10.00' }));
  await page.click('#logout');
  await page.waitForSelector('#login', { state: 'visible', timeout: 20_000 });
  expect(await page.evaluate(() => sessionStorage.getItem('callx.apiKey'))).toBeNull();
}, 120_000);

it('answers a missing file with the JSON 404, and says how to build the dashboard when it is not built', async () => {
  const bare = await fetch(`http://127.0.0.1:${node.httpPort}/dashboard`, { redirect: 'manual' });
  expect([bare.status, bare.headers.get('location')]).toEqual([301, '/dashboard/']);
  const missing = await fetch(`http://127.0.0.1:${node.httpPort}/dashboard/assets/no-such-file.js`);
  expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
  const unbuilt = await startTestNode(infra, { DASHBOARD_DIR: path.join(outDir, 'not-here'), BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  try {
    const r = await fetch(`http://127.0.0.1:${unbuilt.httpPort}/dashboard/`);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect([r.status, body.error.code]).toEqual([503, 'dashboard_not_built']);
    expect(body.error.message).toContain('npm run build');
  } finally {
    await unbuilt.stop();
  }
}, 60_000);
