/**
 * Webhooks in Postgres (migration 022): accounts' signing secrets (sealed, see SecretBox), their endpoints and
 * subscriptions, and one delivery row per (event, endpoint) with its state. The API and the webhook worker both
 * go through here.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { SecretBox } from '../util/secret-box';

export const WEBHOOK_EVENTS = ['call.bridged', 'call.ended'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export type DeliveryStatus = 'pending' | 'delivered' | 'retrying' | 'dead';

// ---- secrets ---------------------------------------------------------------------------------------------------

export interface SecretInfo {
  hint: string;
  createdAt: string;
  rotatedAt: string | null;
  /** until when the previous secret also signs deliveries (null: it does not) */
  previousValidUntil: string | null;
}

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;
const hintOf = (secret: string): string => `${secret.slice(0, 10)}...`;

/**
 * A new secret for the account (returned in clear: the only time it is seen). The old one stops signing at once,
 * or, with `keepPreviousSeconds`, signs beside the new one until then (each delivery then carries two v1 values).
 */
export async function rotateSecret(pool: Pool, box: SecretBox, accountId: string, keepPreviousSeconds = 0): Promise<SecretInfo & { secret: string }> {
  const secret = newSecret();
  const { rows } = await pool.query<{ created_at: Date; rotated_at: Date | null; previous_until: Date | null }>(
    `INSERT INTO webhook_secrets (account_id, secret, hint) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET secret = EXCLUDED.secret, hint = EXCLUDED.hint, rotated_at = now(),
       previous_secret = CASE WHEN $4 > 0 THEN webhook_secrets.secret END,
       previous_until = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) END
     RETURNING created_at, rotated_at, previous_until`,
    [accountId, box.seal(secret), hintOf(secret), keepPreviousSeconds],
  );
  const r = rows[0]!;
  return { secret, hint: hintOf(secret), createdAt: r.created_at.toISOString(), rotatedAt: r.rotated_at?.toISOString() ?? null, previousValidUntil: r.previous_until?.toISOString() ?? null };
}

/** A secret for an account that has none yet (its first endpoint); undefined when it already has one. */
export async function createSecretIfMissing(pool: Pool, box: SecretBox, accountId: string): Promise<string | undefined> {
  const secret = newSecret();
  const { rowCount } = await pool.query('INSERT INTO webhook_secrets (account_id, secret, hint) VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING', [accountId, box.seal(secret), hintOf(secret)]);
  return rowCount === 1 ? secret : undefined;
}

export async function secretInfo(pool: Pool, accountId: string): Promise<SecretInfo | undefined> {
  const { rows } = await pool.query<{ hint: string; created_at: Date; rotated_at: Date | null; previous_until: Date | null }>(
    'SELECT hint, created_at, rotated_at, CASE WHEN previous_until > now() THEN previous_until END AS previous_until FROM webhook_secrets WHERE account_id = $1',
    [accountId],
  );
  const r = rows[0];
  return r ? { hint: r.hint, createdAt: r.created_at.toISOString(), rotatedAt: r.rotated_at?.toISOString() ?? null, previousValidUntil: r.previous_until?.toISOString() ?? null } : undefined;
}

type SecretColumns = { secret: string | null; previous_secret: string | null; previous_until: Date | null };

/** The secrets that sign the account's deliveries now, in clear: the current one, then the previous while kept; none without a secret row. */
function openSigningSecrets(box: SecretBox, r: SecretColumns | undefined, now: Date): string[] {
  if (!r?.secret) return [];
  const keepPrevious = r.previous_secret !== null && r.previous_until !== null && r.previous_until > now;
  return keepPrevious ? [box.open(r.secret), box.open(r.previous_secret!)] : [box.open(r.secret)];
}

// ---- endpoints -------------------------------------------------------------------------------------------------

export interface Endpoint {
  id: string;
  accountId: string;
  url: string;
  events: WebhookEventType[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

type EndpointRow = { id: string; account_id: string; url: string; events: WebhookEventType[]; active: boolean; created_at: Date; updated_at: Date };
const ENDPOINT_COLUMNS = 'id, account_id, url, events, active, created_at, updated_at';
const endpointOf = (r: EndpointRow): Endpoint => ({
  id: r.id, accountId: r.account_id, url: r.url, events: r.events, active: r.active, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
});

export async function createEndpoint(pool: Pool, e: { accountId: string; url: string; events: readonly WebhookEventType[] }): Promise<Endpoint> {
  const id = `whe_${randomBytes(8).toString('hex')}`;
  const { rows } = await pool.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (id, account_id, url, events) VALUES ($1, $2, $3, $4) RETURNING ${ENDPOINT_COLUMNS}`,
    [id, e.accountId, e.url, [...new Set(e.events)]],
  );
  return endpointOf(rows[0]!);
}

export async function getEndpoint(pool: Pool, id: string): Promise<Endpoint | undefined> {
  const { rows } = await pool.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
  return rows[0] ? endpointOf(rows[0]) : undefined;
}

/** Endpoints by id, `limit` at a time after `afterId`; of one account when `accountId` is given. */
export async function listEndpoints(pool: Pool, q: { accountId?: string; limit: number; afterId?: string }): Promise<Endpoint[]> {
  const { rows } = await pool.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
     WHERE ($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [q.accountId ?? null, q.afterId ?? null, q.limit],
  );
  return rows.map(endpointOf);
}

export async function updateEndpoint(pool: Pool, id: string, p: { url?: string; events?: readonly WebhookEventType[]; active?: boolean }): Promise<Endpoint | undefined> {
  const { rows } = await pool.query<EndpointRow>(
    `UPDATE webhook_endpoints SET url = coalesce($2, url), events = coalesce($3, events), active = coalesce($4, active), updated_at = now()
     WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
    [id, p.url ?? null, p.events ? [...new Set(p.events)] : null, p.active ?? null],
  );
  return rows[0] ? endpointOf(rows[0]) : undefined;
}

/** The active endpoints of these accounts that subscribe to the event. */
export async function subscribedEndpoints(pool: Pool, accountIds: readonly string[], event: WebhookEventType): Promise<Array<Pick<Endpoint, 'id' | 'accountId' | 'url'>>> {
  if (accountIds.length === 0) return [];
  // Named: the worker's fan-out runs it for every batch of ended calls, so it is planned once per connection.
  const { rows } = await pool.query<{ id: string; account_id: string; url: string }>({
    name: 'webhook_subscribed_endpoints',
    text: 'SELECT id, account_id, url FROM webhook_endpoints WHERE active AND account_id = ANY($1) AND $2 = ANY(events)',
    values: [accountIds, event],
  });
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, url: r.url }));
}

// ---- deliveries ------------------------------------------------------------------------------------------------

export interface NewDelivery {
  eventId: string;
  eventType: WebhookEventType;
  callId: string;
  accountId: string;
  endpointId: string;
  url: string;
  body: string;
}

/**
 * Writes the deliveries (one per event and endpoint: a repeat changes nothing) and returns the ids of those never
 * attempted yet, new or left by an earlier try of the same fan-out, for their first send.
 */
export async function insertDeliveries(pool: Pool, ds: readonly NewDelivery[]): Promise<string[]> {
  if (ds.length === 0) return [];
  const col = <K extends keyof NewDelivery>(k: K) => ds.map((d) => d[k]);
  const { rows } = await pool.query<{ id: string }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS i(event_id, event_type, call_id, account_id, endpoint_id, url, body)
     ), ins AS (
       INSERT INTO webhook_deliveries (event_id, event_type, call_id, account_id, endpoint_id, url, body)
       SELECT * FROM input ON CONFLICT (event_id, endpoint_id) DO NOTHING RETURNING id
     )
     SELECT id::text FROM ins
     UNION
     SELECT d.id::text FROM webhook_deliveries d JOIN input i ON d.event_id = i.event_id AND d.endpoint_id = i.endpoint_id
     WHERE d.status = 'pending' AND d.attempts = 0`,
    [col('eventId'), col('eventType'), col('callId'), col('accountId'), col('endpointId'), col('url'), col('body')],
  );
  return rows.map((r) => r.id);
}

export interface DeliveryToSend {
  id: string;
  eventId: string;
  eventType: string;
  accountId: string;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** the account's signing secrets at `now`, in clear: the current one, then the previous while kept; none without one */
  secrets: string[];
}

/**
 * A delivery and its account's signing secrets, in one statement: the worker reads this once per attempt, so a
 * second round trip for the secrets cost as much again.
 */
export async function deliveryToSend(pool: Pool, box: SecretBox, id: string, now: Date): Promise<DeliveryToSend | undefined> {
  const { rows } = await pool.query<{ id: string; event_id: string; event_type: string; account_id: string; url: string; body: string; status: DeliveryStatus; attempts: number } & SecretColumns>(
    `SELECT d.id::text, d.event_id, d.event_type, d.account_id, d.url, d.body, d.status, d.attempts, s.secret, s.previous_secret, s.previous_until
     FROM webhook_deliveries d LEFT JOIN webhook_secrets s ON s.account_id = d.account_id WHERE d.id = $1`,
    [id],
  );
  const r = rows[0];
  return r
    ? { id: r.id, eventId: r.event_id, eventType: r.event_type, accountId: r.account_id, url: r.url, body: r.body, status: r.status, attempts: r.attempts, secrets: openSigningSecrets(box, r, now) }
    : undefined;
}

/** One attempt's outcome: delivered, or failed (retrying, or dead after the last attempt). */
export async function recordDeliveryAttempt(
  pool: Pool,
  id: string,
  a: { status: Exclude<DeliveryStatus, 'pending'>; httpStatus?: number; error?: string; at: Date },
): Promise<void> {
  await pool.query(
    `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_http_status = $3, last_error = $4, last_attempt_at = $5,
       delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
     WHERE id = $1`,
    [id, a.status, a.httpStatus ?? null, a.error?.slice(0, 500) ?? null, a.at],
  );
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  callId: string;
  accountId: string;
  endpointId: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

type DeliveryRow = {
  id: string; event_id: string; event_type: string; call_id: string; account_id: string; endpoint_id: string; url: string; status: DeliveryStatus;
  attempts: number; last_http_status: number | null; last_error: string | null; last_attempt_at: Date | null; delivered_at: Date | null; created_at: Date;
};
const DELIVERY_COLUMNS = 'id::text, event_id, event_type, call_id, account_id, endpoint_id, url, status, attempts, last_http_status, last_error, last_attempt_at, delivered_at, created_at';
const deliveryOf = (r: DeliveryRow): DeliveryView => ({
  id: r.id, eventId: r.event_id, eventType: r.event_type, callId: r.call_id, accountId: r.account_id, endpointId: r.endpoint_id, url: r.url,
  status: r.status, attempts: r.attempts, lastHttpStatus: r.last_http_status, lastError: r.last_error,
  lastAttemptAt: r.last_attempt_at?.toISOString() ?? null, deliveredAt: r.delivered_at?.toISOString() ?? null, createdAt: r.created_at.toISOString(),
});

/** Deliveries newest first, `limit` at a time below `beforeId`; of one account and status when given. */
export async function listDeliveries(pool: Pool, q: { accountId?: string; status?: DeliveryStatus; limit: number; beforeId?: string }): Promise<DeliveryView[]> {
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
     WHERE ($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [q.accountId ?? null, q.status ?? null, q.beforeId ?? null, q.limit],
  );
  return rows.map(deliveryOf);
}

export async function getDelivery(pool: Pool, id: string): Promise<(DeliveryView & { body: string }) | undefined> {
  const { rows } = await pool.query<DeliveryRow & { body: string }>(`SELECT ${DELIVERY_COLUMNS}, body FROM webhook_deliveries WHERE id = $1`, [id]);
  return rows[0] ? { ...deliveryOf(rows[0]), body: rows[0].body } : undefined;
}

/**
 * Deletes up to `limit` deliveries that are done with (delivered or dead) and older than `before`, by their creation
 * and their last attempt both (a dead one redelivered lately is kept), oldest first; answers how many went. Pending
 * and retrying ones are never deleted: the conditions are checked again on the row deleted, so one reopened for a
 * redelivery meanwhile stays.
 */
export async function pruneDeliveries(pool: Pool, before: Date, limit: number): Promise<number> {
  const done = "status IN ('delivered', 'dead') AND created_at < $1 AND coalesce(last_attempt_at, created_at) < $1";
  const { rowCount } = await pool.query(
    `DELETE FROM webhook_deliveries
     WHERE id = ANY(ARRAY(SELECT id FROM webhook_deliveries WHERE ${done} ORDER BY created_at LIMIT $2)) AND ${done}`,
    [before, limit],
  );
  return rowCount ?? 0;
}

/** A dead delivery back to pending for another round of attempts; false when it is not dead (any more). */
export async function reopenDeadDelivery(pool: Pool, id: string): Promise<{ attempts: number } | undefined> {
  const { rows } = await pool.query<{ attempts: number }>("UPDATE webhook_deliveries SET status = 'pending' WHERE id = $1 AND status = 'dead' RETURNING attempts", [id]);
  return rows[0];
}
