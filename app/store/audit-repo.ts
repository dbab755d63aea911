/**
 * The audit trail of money settings (migrations/011_access.sql): who changed which field of what, from which value to
 * which, and when. Rows are written by the statement or transaction that makes the change, so a change is never
 * without its row and a row never without its change. Admins read it at GET /v1/audit.
 */
import type { Pool, PoolClient } from 'pg';
import type { ApiPrincipal } from './api-keys';

/** What a trail row is about: one field of one campaign, target or account, or one batch of standing bids. */
export type AuditEntity = 'campaign' | 'target' | 'account' | 'target_bids';

export interface AuditChange {
  entity: AuditEntity;
  entityId: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
}

/**
 * The changes of `fields` between a row before and after a write (`before` undefined: it was created), named by their
 * API field names. Values compare as JSON, so 1500 and '1500' (pg returns bigints as strings) are one value.
 */
export function changedFields(entity: AuditEntity, entityId: string, before: Record<string, unknown> | undefined, after: Record<string, unknown>, fields: Readonly<Record<string, string>>): AuditChange[] {
  const out: AuditChange[] = [];
  for (const [field, column] of Object.entries(fields)) {
    const oldValue = before === undefined ? null : normal(before[column]);
    const newValue = normal(after[column]);
    if (before !== undefined && JSON.stringify(oldValue) === JSON.stringify(newValue)) continue;
    if (before === undefined && newValue === null) continue;
    out.push({ entity, entityId, field, oldValue, newValue });
  }
  return out;
}

/** pg answers bigint and numeric columns as strings: as numbers here, so the trail shows 1500, not "1500". */
function normal(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

/** Writes the changes' rows, on the caller's transaction. */
export async function writeAudit(db: Pool | PoolClient, actor: ApiPrincipal, changes: readonly AuditChange[]): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `INSERT INTO audit_log (key_id, role, account_id, entity, entity_id, field, old_value, new_value)
     SELECT $1, $2, $3, * FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[])`,
    [actor.keyId, actor.role, actor.accountId ?? null, changes.map((c) => c.entity), changes.map((c) => c.entityId), changes.map((c) => c.field),
      changes.map((c) => JSON.stringify(c.oldValue ?? null)), changes.map((c) => JSON.stringify(c.newValue ?? null))],
  );
}

export interface AuditRow {
  id: number;
  at: Date;
  keyId: string;
  role: string;
  accountId: string | null;
  entity: AuditEntity;
  entityId: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
}

/**
 * A page of the trail, newest first, rows older than `beforeId` when given. `entityId` also finds a target's
 * standing-bid batches (one row per batch, its values keyed by target id).
 */
export async function listAudit(pool: Pool, q: { entity?: AuditEntity; entityId?: string; beforeId?: number; limit: number }): Promise<AuditRow[]> {
  const { rows } = await pool.query(
    `SELECT id, at, key_id, role, account_id, entity, entity_id, field, old_value, new_value FROM audit_log
     WHERE ($1::text IS NULL OR entity = $1)
       AND ($2::text IS NULL OR entity_id = $2 OR (entity = 'target_bids' AND new_value ? $2))
       AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [q.entity ?? null, q.entityId ?? null, q.beforeId ?? null, q.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id), at: r.at, keyId: r.key_id, role: r.role, accountId: r.account_id, entity: r.entity, entityId: r.entity_id,
    field: r.field, oldValue: r.old_value, newValue: r.new_value,
  }));
}
