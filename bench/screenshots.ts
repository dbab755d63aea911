/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * `npm run screenshots`: PNGs of the console's main views at desktop (1280x800) and phone (375x812) width, for a
 * reviewer who does not run the demo. It builds the console, starts a node on a schema and Redis prefix of its
 * own with the demo's market (bench/demo/scenario.ts), plays the switch with the FreeSWITCH test peer, places a
 * dozen calls (some refused by screening, some failing over from a busy buyer) and keeps one up, then logs in as
 * each role in headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium) and writes the PNGs to screenshots/
 * (git-ignored; SCREENSHOTS_DIR sets another). Everything it made is dropped at the end.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { createApiKey } from '../app/store/api-keys';
import { BUYERS, callerFor, DIDS, SELLER_ID, seedDemo } from './demo/scenario';
import { FreeSwitchHarness } from '../test/e2e/freeswitch-harness';
import { createTestInfra } from '../test/support/infra';

const ROOT = path.join(__dirname, '..');
const OUT = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(ROOT, 'screenshots'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CALLS = 12;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 812 } } as const;
/** role -> the views shot for it (the overview first) */
const SHOTS: Record<'admin' | 'seller' | 'buyer', string[]> = {
  admin: ['overview', 'calls', 'reports', 'campaigns-admin', 'targets', 'accounts', 'money', 'lists'],
  seller: ['reports'],
  buyer: ['targets'],
};

const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'callx-shots-'));
  say('building the console…');
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(ROOT, 'app', 'dashboard', 'vite.config.mjs'), '--outDir', dist, '--emptyOutDir'], { cwd: ROOT });
  const infra = await createTestInfra('screenshots');
  const harness = new FreeSwitchHarness({ DASHBOARD_DIR: dist });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  let held: { hangup(): void } | undefined;
  try {
    await seedDemo(infra, new Date(), 'screenshots');
    const node = await harness.start(infra);
    for (const b of BUYERS) harness.setBuyer(b.phone, b.line === 'busy' ? { kind: 'busy', afterMs: 100 } : { kind: 'answer', afterMs: 200 });
    say(`placing ${CALLS} calls…`);
    await Promise.all(Array.from({ length: CALLS }, (_, i) => harness.placeCall({ ani: callerFor(i + 1), dnis: DIDS[i % DIDS.length]!, hangupAfterBridgeMs: 6_000 + i * 300 }).finished));
    held = harness.placeCall({ ani: callerFor(CALLS + 1), dnis: DIDS[0]!, hangupAfterBridgeMs: 120_000 });
    await node.recorder?.drain();
    // Billing runs in the background: wait (a bounded while) until the bridged calls are posted.
    for (let i = 0; i < 60; i++) {
      const { rows } = await infra.pool.query("SELECT (SELECT count(*) FROM calls WHERE outcome = 'bridged')::int AS b, (SELECT count(DISTINCT call_id) FROM ledger_transactions WHERE call_id IS NOT NULL)::int AS p");
      if (rows[0].b > 0 && rows[0].p >= rows[0].b) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const keys = {
      admin: (await createApiKey(infra.pool, { role: 'admin' })).key,
      seller: (await createApiKey(infra.pool, { role: 'seller', accountId: SELLER_ID })).key,
      buyer: (await createApiKey(infra.pool, { role: 'buyer', accountId: 'best-quotes' })).key,
    };
    fs.mkdirSync(OUT, { recursive: true });
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const [role, views] of Object.entries(SHOTS) as Array<[keyof typeof SHOTS, string[]]>) {
        const page: Page = await browser.newPage({ viewport });
        await page.goto(`http://127.0.0.1:${node.httpPort}/dashboard/`);
        await page.fill('#api-key', keys[role]);
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('#app', { state: 'visible', timeout: 30_000 });
        for (const view of views) {
          await page.evaluate((v) => { window.location.hash = v; }, view);
          await page.waitForSelector(`#view-${view}:not([hidden])`, { timeout: 15_000 });
          await page.waitForTimeout(1_500); // lists and reports load
          if (view === 'calls') {
            // The trace of the first call that failed over, or the first call.
            const row = page.locator('#log tbody tr').first();
            if (await row.count()) {
              await row.click();
              await page.waitForSelector('#trace .trace-summary', { timeout: 10_000 }).catch(() => undefined);
            }
          }
          const file = path.join(OUT, `${role}-${view}-${size}.png`);
          await page.screenshot({ path: file, fullPage: true });
          say(file);
          await page.evaluate(() => { document.querySelector('#trace-card')?.setAttribute('hidden', ''); });
        }
        await page.close();
      }
    }
  } finally {
    held?.hangup();
    await browser.close();
    await harness.stop();
    await infra.cleanup();
    fs.rmSync(dist, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`screenshots failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
