/**
 * A DNC registry import over HTTP: an exchange node in this process (real Postgres and Redis), the upload in
 * another process streaming generated numbers as text/plain; progress lines while it runs; then lookups.
 *
 *   npm run bench:dnc-import [-- --numbers 10000000 --lookups 20000] [-- --registry-copy]
 *
 * --registry-copy: the upload is a national registry copy (POST /v1/dnc/registry-copies), loaded as a new
 * generation and then made current (the figure includes the switch).
 *
 * Prints JSON lines: dnc_import_numbers_per_s, then routing_decision_p50_us / routing_decision_p99_us for calls
 * screened against the imported list (the DNC lookup rides the decision's one Redis round trip). Uses the schema
 * `bench_dnc` of DATABASE_URL and the Redis prefix `bench:dnc:`, emptied before and after (10 million numbers
 * take about 1 GB in Redis and 1.5 GB in Postgres).
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { loadConfig } from '../app/config';
import { createLogger } from '../app/observability/logger';
import { startExchangeNode } from '../app/exchange-node';
import { createApiKey } from '../app/store/api-keys';
import { readDncImport } from '../app/store/dnc-import';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['numbers', 'lookups'],
  switches: ['registry-copy'],
  usage: `npm run bench:dnc-import [-- options]

  --numbers <n>    numbers in the uploaded list (default 10000000)
  --lookups <n>    routing decisions screened against it afterwards (default 20000)
  --registry-copy  upload a national registry copy (a new generation, then made current) instead of an import
  --help           this text`,
});
const NUMBERS = FLAGS.number('numbers', 10_000_000, { min: 1, integer: true });
const REGISTRY_COPY = FLAGS.has('registry-copy');
const UPLOAD_PATH = REGISTRY_COPY ? `/v1/dnc/registry-copies?kind=us&registryDate=${new Date().toISOString().slice(0, 10)}&source=bench` : '/v1/dnc/imports?list=registry&source=bench';
const LOOKUPS = FLAGS.number('lookups', 20_000, { min: 1, integer: true });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_dnc';
const PREFIX = 'bench:dnc:';

async function clean(): Promise<void> {
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

async function main(): Promise<void> {
  await clean();
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.end();
  const config = loadConfig({ DATABASE_URL, DATABASE_SCHEMA: SCHEMA, REDIS_URL, REDIS_PREFIX: PREFIX, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'warn', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  const node = await startExchangeNode(config, createLogger('warn'));
  try {
    await node.pool.query("INSERT INTO accounts (id, kind, name, balance_cents) VALUES ('seller', 'seller', 'S', 0), ('buyer', 'buyer', 'B', 1000000000)");
    await node.pool.query("INSERT INTO campaigns (id, seller_account_id, name) VALUES ('c', 'seller', 'C')");
    await node.pool.query("INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ('+18885550100', 'c', 'seller')");
    await node.pool.query("INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination) VALUES ('t', 'buyer', 'c', 't', 1000, 'sip:b@x')");
    await node.snapshots.refreshNow();
    const { key } = await createApiKey(node.pool, { role: 'admin' });

    const started = Date.now();
    const upload = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'load', 'dnc-upload.ts'), `http://127.0.0.1:${node.httpPort}`, key, String(NUMBERS), UPLOAD_PATH], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    upload.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Progress from the import's own record in Redis, as GET /v1/dnc/imports/:id shows it.
    const progress = setInterval(async () => {
      const keys = await node.redis.keys(`${PREFIX}dnc:import:*`).catch(() => []);
      const state = keys[0] ? await readDncImport(node.redis, keys[0].slice(`${PREFIX}dnc:import:`.length)) : undefined;
      if (state) process.stderr.write(`  ${state.accepted.toLocaleString()} numbers in (${Math.round(state.accepted / ((Date.now() - started) / 1000)).toLocaleString()}/s)\n`);
    }, 5000);
    const code = await new Promise<number | null>((resolve) => upload.on('exit', resolve));
    clearInterval(progress);
    if (code !== 0) throw new Error(`the upload exited with ${code}`);
    const seconds = (Date.now() - started) / 1000;
    const answer = JSON.parse(out) as { accepted: number; rejected: number; lines: number } | { import: { accepted: number; rejected: number; lines: number } };
    const summary = 'import' in answer ? answer.import : answer;
    process.stdout.write(`${JSON.stringify({ name: REGISTRY_COPY ? 'dnc_registry_copy_numbers_per_s' : 'dnc_import_numbers_per_s', value: Math.round(summary.accepted / seconds), unit: 'numbers/s', numbers: summary.accepted, rejected: summary.rejected, seconds: Math.round(seconds * 10) / 10 })}\n`);

    // Lookups after the import: routing decisions whose callers are half on the list, half not.
    const times: number[] = [];
    let screened = 0;
    for (let i = 0; i < LOOKUPS; i++) {
      const ani = i % 2 === 0 ? `+1202${200 + (i % 700)}${String(i % 10_000).padStart(4, '0')}` : `+1216${200 + (i % 700)}${String(i % 10_000).padStart(4, '0')}`;
      const t0 = process.hrtime.bigint();
      const d = await node.router.decide(randomUUID(), { ani, dnis: '+18885550100', direction: 'inbound', switchName: 'bench', switchCallId: String(i) }, new Date());
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (d.outcome === 'reject') screened++; // the target has no caps: a routed decision reserves nothing
    }
    times.sort((a, b) => a - b);
    const cond = { dnc_entries: summary.accepted, calls: LOOKUPS, screened_out: screened, concurrency: 1 };
    process.stdout.write(`${JSON.stringify({ name: 'routing_decision_p50_us', value: Math.round(times[Math.floor(times.length / 2)]!), unit: 'us', ...cond })}\n`);
    process.stdout.write(`${JSON.stringify({ name: 'routing_decision_p99_us', value: Math.round(times[Math.floor(times.length * 0.99)]!), unit: 'us', ...cond })}\n`);
  } finally {
    await node.stop();
    await clean();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
