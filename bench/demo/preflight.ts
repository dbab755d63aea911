/**
 * Before the demo starts anything: Postgres and Redis answer, the demo's schema exists, the HTTP port is free and
 * the dashboard is built. Each failure is a PreflightError whose message says what to do, printed without a stack.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { quoteIdent } from '../../app/store/db';
import { redactUrl } from './options';

export class PreflightError extends Error {}

/** Connects once (5 s at most), then creates the schema if it is missing. */
export async function preparePostgres(url: string, schema: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // reported by the query below
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint =
      e.code === '3D000'
        ? 'create that database (createdb) or point DATABASE_URL at one that exists'
        : 'start Postgres (Debian: apt-get install postgresql) or set DATABASE_URL';
    throw new PreflightError(`cannot use Postgres at ${redactUrl(url)}: ${e.message.replace(/\.+$/, '')}. ${hint[0]!.toUpperCase()}${hint.slice(1)}.`);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** One PING without retries (ioredis would otherwise retry for ever). */
export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err)); // the socket's error says more than "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const why = (cause ?? (err as Error)).message.replace(/\.+$/, '');
    throw new PreflightError(`cannot reach Redis at ${redactUrl(url)}: ${why}. Start Redis (Debian: apt-get install redis-server) or set REDIS_URL.`);
  } finally {
    redis.disconnect();
  }
}

function tryListen(host: string, port: number): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    s.listen(port, host, () => {
      const bound = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(bound));
    });
  });
}

/**
 * The HTTP port to give the exchange: the one asked for, or when it was only the default and is taken, a free one
 * (with a note). 0 stays 0 (the exchange picks one).
 */
export async function chooseHttpPort(host: string, port: number, isDefault: boolean, note: (line: string) => void): Promise<number> {
  if (port === 0) return 0;
  const r = await tryListen(host, port);
  if (typeof r === 'number') return port;
  if (r.code === 'EADDRINUSE' && isDefault) {
    note(`port ${port} is in use (is an exchange already running?); the demo takes a free port instead.`);
    return 0;
  }
  throw new PreflightError(
    r.code === 'EADDRINUSE' ? `port ${port} on ${host} is in use: pass --http-port with another port, or 0 for any free one.` : `cannot listen on ${host}:${port}: ${r.message}`,
  );
}

/** A free TCP port on the host, for the FreeSWITCH outbound socket server between the peer and the exchange. */
export async function freePort(host: string): Promise<number> {
  const r = await tryListen(host, 0);
  if (typeof r === 'number') return r;
  throw new PreflightError(`cannot find a free port on ${host}: ${r.message}`);
}

/**
 * Builds the dashboard (as `npm run build` does) when it is not there yet, so the printed URL works. A failed
 * build is not fatal: the demo goes on and the URL answers how to build it.
 */
export async function ensureDashboard(dir: string, build: boolean, note: (line: string) => void): Promise<void> {
  if (fs.existsSync(path.join(dir, 'index.html'))) return;
  if (!build) {
    note(`the dashboard is not built (${dir}); \`npm run build\` builds it.`);
    return;
  }
  note('building the dashboard (the first time only)...');
  const root = path.join(__dirname, '..', '..');
  try {
    await promisify(execFile)(
      process.execPath,
      [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(root, 'app', 'dashboard', 'vite.config.mjs'), '--outDir', dir, '--emptyOutDir'],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as Error & { stderr?: string };
    note(`the dashboard did not build (${(e.stderr || e.message).trim().split('\n').slice(-3).join(' / ')}); the demo goes on without it.`);
  }
}
