/**
 * What every benchmark that runs an exchange does first and waits for: a fresh schema and Redis prefix of its own
 * (so a killed earlier run leaves nothing behind), and, for an exchange run as a child process, its /ready.
 */
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import Redis from 'ioredis';

/** Drops and recreates `schema` and deletes every Redis key under `prefix`. */
export async function freshBenchState(p: { databaseUrl: string; redisUrl: string; schema: string; prefix: string }): Promise<void> {
  const admin = new Pool({ connectionString: p.databaseUrl, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${p.schema} CASCADE`);
  await admin.query(`CREATE SCHEMA ${p.schema}`);
  await admin.end();
  const redis = new Redis(p.redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${p.prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/** Resolves once the exchange child answers /ready with 200; rejects if it exits first or takes over `timeoutMs`. */
export async function untilReady(child: ChildProcess, httpPort: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${httpPort}/ready`);
      if (r.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the exchange did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}
