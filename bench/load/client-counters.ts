/**
 * Counts what one client sends, by wrapping it: Postgres and Redis are shared with other processes, so their own
 * statistics would mix others' work into a bench's per-request or per-call figures.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';

/** Counts the queries sent through a pool (a wrapper on pool.query). */
export function countQueries(pool: Pool): { count: number } {
  const counter = { count: 0 };
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  pool.query = ((...a: unknown[]) => {
    counter.count += 1;
    return query(...a);
  }) as Pool['query'];
  return counter;
}

/** Counts the commands a client sends (a wrapper on sendCommand, which auto-pipelined commands pass through too). */
export function countCommands(redis: Redis): { count: number } {
  const counter = { count: 0 };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...a: Parameters<Redis['sendCommand']>) => {
    counter.count += 1;
    return send(...a);
  }) as Redis['sendCommand'];
  return counter;
}
