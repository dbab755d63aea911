/**
 * National DNC registry copies (issue 14, feature 3). Each import is one whole copy of a registry (the FTC's
 * National DNC Registry for US numbers, the CRTC's National DNCL for Canadian ones) with the copy's own date and
 * the area codes it was downloaded for. It loads as a new generation beside the current copy (Postgres rows under
 * list_id `registry-copy:<kind>:<generation>`, a Redis set under a loading key) while screening keeps reading the old one;
 * once complete it replaces the old copy at once: the row becomes current in one transaction, and one Redis script
 * renames the new set over the old and writes the copy's date and area codes beside it. Numbers that left the
 * registry leave with the old generation, and there is no moment when neither copy is read.
 */
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { complianceKeys } from '../cache/compliance-keys';
import { registryAgeDays, type RegistryKind } from '../domain/lists';
import { importDnc, type DncImportState } from './dnc-import';
import { addDncNumbers } from './compliance-repo';

export interface RegistryCopyRow {
  id: string;
  /** a short number naming the copy's rows in dnc_entries (copyListId) */
  generation: number;
  kind: RegistryKind;
  /** YYYY-MM-DD */
  registryDate: string;
  areaCodes: string[];
  source: string;
  status: 'loading' | 'current' | 'replaced' | 'failed';
  numbers: number;
  startedAt: string;
  finishedAt?: string;
}

const COLUMNS = `id::text AS id, generation, kind, to_char(registry_date, 'YYYY-MM-DD') AS registry_date, area_codes, source, status, numbers, started_at, finished_at`;
type Row = { id: string; generation: string; kind: RegistryKind; registry_date: string; area_codes: string[]; source: string; status: RegistryCopyRow['status']; numbers: string; started_at: Date; finished_at: Date | null };
const toCopy = (r: Row): RegistryCopyRow => ({
  id: r.id,
  generation: Number(r.generation),
  kind: r.kind,
  registryDate: r.registry_date,
  areaCodes: r.area_codes,
  source: r.source,
  status: r.status,
  numbers: Number(r.numbers),
  startedAt: r.started_at.toISOString(),
  ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
});

/** The list_id of a copy's numbers in dnc_entries. */
export const copyListId = (c: Pick<RegistryCopyRow, 'kind' | 'generation'>): `registry-copy:${RegistryKind}:${number}` => `registry-copy:${c.kind}:${c.generation}`;

const dateMs = (yyyyMmDd: string): number => Date.parse(`${yyyyMmDd}T00:00:00Z`);

/** The value screening reads for a registry's current copy: "<date ms>|,<area codes>," (or "<date ms>|" for all). */
export function registryMetaValue(c: Pick<RegistryCopyRow, 'registryDate' | 'areaCodes'>): string {
  return `${dateMs(c.registryDate)}|${c.areaCodes.length ? `,${c.areaCodes.join(',')},` : ''}`;
}

export async function currentRegistryCopies(pool: Pool): Promise<RegistryCopyRow[]> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM dnc_registry_imports WHERE status = 'current' ORDER BY kind`);
  return rows.map(toCopy);
}

export async function listRegistryCopies(pool: Pool, limit = 50): Promise<RegistryCopyRow[]> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM dnc_registry_imports ORDER BY started_at DESC LIMIT $1`, [limit]);
  return rows.map(toCopy);
}

/** Each registry's current copy as /ready and the metrics show it (from Redis: what screening reads). */
export async function registryCopyAges(redis: Redis, nowMs: number, maxAgeDays: number): Promise<Record<RegistryKind, { registryDate: string; ageDays: number; stale: boolean } | null>> {
  const meta = await redis.hgetall(complianceKeys.nationalMeta);
  const one = (kind: RegistryKind) => {
    const v = meta[kind];
    if (!v) return null;
    const ms = Number(v.slice(0, v.indexOf('|')));
    const ageDays = registryAgeDays(ms, nowMs);
    return { registryDate: new Date(ms).toISOString().slice(0, 10), ageDays, stale: ageDays > maxAgeDays };
  };
  return { us: one('us'), ca: one('ca') };
}

/** Renames the loaded set over the current one (kept under `old` to be unlinked) and writes the copy's meta, at once. */
const SWITCH_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[3]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[1]) end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return 1`;

export interface RegistryImportResult {
  copy: RegistryCopyRow;
  import: DncImportState;
  /** the copy it replaced, if any */
  replaced?: string;
}

/**
 * Imports a registry copy and, if every line was read and written, makes it the current one. A failed import
 * leaves the current copy as it was and its own rows are deleted.
 */
export async function importRegistryCopy(
  deps: { pool: Pool; redis: Redis; log: Logger },
  p: { kind: RegistryKind; registryDate: string; areaCodes: string[]; source: string; input: Readable; id?: string },
): Promise<RegistryImportResult> {
  const id = p.id ?? randomUUID();
  const log = deps.log.child({ registryCopy: id, kind: p.kind, registryDate: p.registryDate });
  const { rows } = await deps.pool.query<{ generation: string }>(
    `INSERT INTO dnc_registry_imports (id, kind, registry_date, area_codes, source, status) VALUES ($1, $2, $3, $4, $5, 'loading') RETURNING generation`,
    [id, p.kind, p.registryDate, p.areaCodes, p.source],
  );
  const generation = Number(rows[0]!.generation);
  const listId = copyListId({ kind: p.kind, generation });
  const loadingKey = complianceKeys.nationalLoading(p.kind, String(generation));
  // Counted as written (a count(*) of millions of fresh rows took seconds of the switch).
  let numbers = 0;
  const write = async (batch: string[], expectNew: boolean) => {
    const r = await addDncNumbers(deps.pool, deps.redis, listId, batch, p.source, { expectNew });
    numbers += r.added;
    return r;
  };
  const state = await importDnc(deps, { listId, source: p.source, input: p.input, id, write });
  if (state.status !== 'done') {
    await deps.pool.query(`UPDATE dnc_registry_imports SET status = 'failed', numbers = $2, finished_at = now() WHERE id = $1`, [id, numbers]);
    await deps.redis.unlink(loadingKey);
    dropGeneration(deps, listId, log);
    return { copy: await readCopy(deps.pool, id), import: state };
  }
  // One switch at a time per registry, Postgres and Redis together: two imports finishing at once must leave both
  // saying the same copy is current.
  const client = await deps.pool.connect();
  const lock = `registry-copy:${p.kind}`;
  let replaced: { id: string; generation: number } | undefined;
  let copy: RegistryCopyRow;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    await client.query('BEGIN');
    const old = await client.query<{ id: string; generation: string }>(`UPDATE dnc_registry_imports SET status = 'replaced' WHERE kind = $1 AND status = 'current' RETURNING id::text AS id, generation`, [p.kind]);
    replaced = old.rows[0] && { id: old.rows[0].id, generation: Number(old.rows[0].generation) };
    await client.query(`UPDATE dnc_registry_imports SET status = 'current', numbers = $2, finished_at = now() WHERE id = $1`, [id, numbers]);
    await client.query('COMMIT');
    copy = await readCopy(deps.pool, id);
    const oldKey = `${complianceKeys.national(p.kind)}:old:${generation}`;
    try {
      await deps.redis.eval(SWITCH_LUA, 4, complianceKeys.national(p.kind), loadingKey, oldKey, complianceKeys.nationalMeta, p.kind, registryMetaValue(copy));
    } catch (err) {
      // Postgres says current; Redis still screens the previous copy until the lists are next loaded from Postgres.
      log.error({ err: (err as Error).message }, 'registry copy is current in Postgres but could not be switched in Redis');
      throw err;
    }
    await deps.redis.unlink(oldKey); // freed in the background: a set of millions is not deleted inside the script
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    log.error({ err: (err as Error).message }, 'registry copy loaded but could not be made current');
    throw err;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => undefined);
    client.release();
  }
  if (replaced) dropGeneration(deps, copyListId({ kind: p.kind, generation: replaced.generation }), log);
  log.info({ numbers: copy.numbers, replaced: replaced?.id }, 'registry copy is current');
  return { copy, import: state, ...(replaced ? { replaced: replaced.id } : {}) };
}

async function readCopy(pool: Pool, id: string): Promise<RegistryCopyRow> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM dnc_registry_imports WHERE id = $1`, [id]);
  return toCopy(rows[0]!);
}

/** Deletes a generation's rows from Postgres in the background, in slices (millions of rows, off the request). */
function dropGeneration(deps: { pool: Pool; log: Logger }, listId: string, log: Logger): void {
  void (async () => {
    for (;;) {
      const r = await deps.pool.query(`DELETE FROM dnc_entries WHERE ctid = ANY (ARRAY(SELECT ctid FROM dnc_entries WHERE list_id = $1 LIMIT 100000))`, [listId]);
      if ((r.rowCount ?? 0) === 0) break;
    }
  })().catch((err: Error) => log.warn({ err: err.message, listId }, 'deleting a replaced registry copy failed; its rows stay (screening does not read them)'));
}
