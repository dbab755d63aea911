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

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary`);
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

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
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

it('shows a call placed through the switch arrive, end with its buyer and price, in the counters and chart, and its trace', async () => {
  await page.goto(url());
  await page.fill('#api-key', agentKey);
  await page.click('button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible', timeout: 15_000 });
  await page.waitForFunction(() => document.querySelector('#live-status')?.textContent === 'live', undefined, { timeout: 15_000 });
  expect(await page.textContent('#whoami')).toBe('agent');

  const call = harness.placeCall({ ani: ANI, dnis: DID, hangupAfterBridgeMs: 1500 });
  const row = page.locator('#calls tbody tr', { hasText: ANI });
  // While the call is up the table shows it bridged to the winner.
  await row.locator('td.status', { hasText: 'bridged' }).waitFor({ timeout: 15_000 });
  expect(await row.locator('td.buyer').textContent()).toBe('acme');
  await call.finished;
  // Then it ends: the outcome, the price the buyer pays (a lone bidder pays the floor) and the duration.
  await page.waitForFunction((ani) => {
    const tr = [...document.querySelectorAll('#calls tbody tr')].find((r) => r.textContent?.includes(ani));
    return tr?.querySelector('td.duration')?.textContent?.endsWith(' s') ?? false;
  }, ANI, { timeout: 15_000 });
  expect(await row.locator('td.status').textContent()).toBe('bridged');
  expect(await row.locator('td.price').textContent()).toBe('$10.00');

  // The counters and the chart come from the recorded call.
  await page.locator('#campaigns tbody tr[data-campaign=solar] td.calls', { hasText: '1' }).waitFor({ timeout: 20_000 });
  expect(await page.locator('#campaigns tbody tr[data-campaign=solar] td.bridged').textContent()).toBe('1');
  await page.waitForFunction(() => Number((document.querySelector('#chart') as SVGElement | null)?.dataset.totalCalls ?? '0') >= 1, undefined, { timeout: 20_000 });

  // Selecting the call shows why it went where it went.
  await row.click();
  await page.locator('#trace table.trace-ranked').waitFor({ timeout: 15_000 });
  const ranked = await page.locator('#trace table.trace-ranked tbody tr').allTextContents();
  expect(ranked).toHaveLength(1);
  expect(ranked[0]).toContain('acme-solar');
  expect(ranked[0]).toContain('$25.00');
  expect(ranked[0]).toContain('won');
  expect(await page.textContent('#trace .trace-summary')).toContain('won by acme at $10.00');
}, 90_000);

it('answers a missing file with the JSON 404, and says how to build the dashboard when it is not built', async () => {
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
});
