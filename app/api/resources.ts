/**
 * The one mapping layer between database rows and API resources (issue 16, "one API shape"). Every route that
 * answers with a stored thing answers with a resource defined here:
 * - camelCase field names, the same ones the routes' request bodies use, so a GET echoed back as a PATCH is
 *   accepted (read-only fields are listed per resource: see `readOnlyFields`);
 * - money as integer cents in JSON numbers (`bidCents: 1500`), never Postgres's bigint text;
 * - timestamps as ISO 8601 text.
 *
 * Each resource is declared once as a column table (API field -> column and kind). From it come, built once at
 * module load:
 * - `selectList(table, alias)`: the SQL select list whose rows already ARE the resource (columns aliased to
 *   their field names, money cast to float8, which pg reads as a number): hot routes send such rows as they are,
 *   with no intermediate object;
 * - `rowMapper(table)`: the same mapping for a raw row (`SELECT *`, `RETURNING *`), for the write routes;
 * - the zod schema of the response (the `*Resource` exports), which /openapi.json publishes and the tests check
 *   every response against.
 * Role projections (projections.ts) work on these resources.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

// ---- column tables ---------------------------------------------------------------------------------------------

/** How a column's value goes into JSON: money and numeric columns as numbers, timestamps as ISO text. */
type ColumnKind = 'plain' | 'money' | 'number' | 'time' | 'expr';
interface Column {
  column: string;
  kind: ColumnKind;
}
export type ColumnTable = Readonly<Record<string, Column>>;

const plain = (column: string): Column => ({ column, kind: 'plain' });
const money = (column: string): Column => ({ column, kind: 'money' });
const num = (column: string): Column => ({ column, kind: 'number' });
const time = (column: string): Column => ({ column, kind: 'time' });
/** An SQL expression over the row (`$.` stands for the table's alias); selectList only, not rowMapper. */
const expr = (sql: string): Column => ({ column: sql, kind: 'expr' });

export const ACCOUNT_COLUMNS = {
  id: plain('id'),
  kind: plain('kind'),
  name: plain('name'),
  active: plain('active'),
  balanceCents: money('balance_cents'),
  creditLimitCents: money('credit_limit_cents'),
  maxBidCents: money('max_bid_cents'),
  seesBuyerDetails: plain('sees_buyer_details'),
  createdAt: time('created_at'),
  updatedAt: time('updated_at'),
} as const satisfies ColumnTable;

export const API_KEY_COLUMNS = {
  id: plain('id'),
  role: plain('role'),
  accountId: plain('account_id'),
  label: plain('label'),
  createdAt: time('created_at'),
  revokedAt: time('revoked_at'),
} as const satisfies ColumnTable;

export const CAMPAIGN_COLUMNS = {
  id: plain('id'),
  sellerAccountId: plain('seller_account_id'),
  name: plain('name'),
  active: plain('active'),
  routing: plain('routing'),
  floorCents: money('floor_cents'),
  requireConsent: plain('require_consent'),
  blockLitigators: plain('block_litigators'),
  minAttestation: plain('min_attestation'),
  allowedCountries: plain('allowed_countries'),
  bidDeadlineMs: plain('bid_deadline_ms'),
  payoutCents: money('payout_cents'),
  payoutPercent: num('payout_percent'),
  duplicateWindowDays: plain('duplicate_window_days'),
  allowNegativeMargin: plain('allow_negative_margin'),
  outboundConsentExempt: plain('outbound_consent_exempt'),
  createdAt: time('created_at'),
  updatedAt: time('updated_at'),
} as const satisfies ColumnTable;

export const TRACKING_NUMBER_COLUMNS = {
  did: plain('did'),
  campaignId: plain('campaign_id'),
  sellerAccountId: plain('seller_account_id'),
  active: plain('active'),
  createdAt: time('created_at'),
} as const satisfies ColumnTable;

export const TARGET_COLUMNS = {
  id: plain('id'),
  buyerAccountId: plain('buyer_account_id'),
  campaignId: plain('campaign_id'),
  name: plain('name'),
  active: plain('active'),
  bidCents: money('bid_cents'),
  destination: plain('destination'),
  answerTimeoutSec: plain('answer_timeout_sec'),
  targeting: plain('targeting'),
  schedule: plain('schedule'),
  capConcurrency: plain('cap_concurrency'),
  capHourly: plain('cap_hourly'),
  capDaily: plain('cap_daily'),
  capMonthly: plain('cap_monthly'),
  qualityScore: num('quality_score'),
  priority: plain('priority'),
  weight: plain('weight'),
  convertOnSeconds: plain('convert_on_seconds'),
  /** bumped by every bid change; nodes order bid messages by it */
  bidVersion: num('bid_version'),
  createdAt: time('created_at'),
  updatedAt: time('updated_at'),
} as const satisfies ColumnTable;

export const CALL_COLUMNS = {
  id: plain('id'),
  direction: plain('direction'),
  ani: plain('ani'),
  dnis: plain('dnis'),
  campaignId: plain('campaign_id'),
  sellerAccountId: plain('seller_account_id'),
  outcome: plain('outcome'),
  rejectReason: plain('reject_reason'),
  winnerTargetId: plain('winner_target_id'),
  winnerBuyerId: plain('winner_buyer_id'),
  priceCents: money('price_cents'),
  startedAt: time('started_at'),
  decidedAt: time('decided_at'),
  answeredAt: time('answered_at'),
  bridgedAt: time('bridged_at'),
  endedAt: time('ended_at'),
  durationSec: plain('duration_sec'),
  billableSec: plain('billable_sec'),
  hangupCause: plain('hangup_cause'),
  hungUpBy: plain('hung_up_by'),
  endReason: plain('end_reason'),
  switchName: plain('switch_name'),
  endIsLowerBound: plain('end_is_lower_bound'),
} as const satisfies ColumnTable;

export const ATTEMPT_COLUMNS = {
  attemptNo: plain('attempt_no'),
  targetId: plain('target_id'),
  buyerId: plain('buyer_id'),
  destination: plain('destination'),
  startedAt: time('started_at'),
  endedAt: time('ended_at'),
  status: plain('status'),
  cause: plain('cause'),
} as const satisfies ColumnTable;

export const BILLING_COLUMNS = {
  converted: plain('converted'),
  duplicate: plain('duplicate'),
  reason: plain('reason'),
  buyerChargeCents: money('buyer_charge_cents'),
  sellerPayoutCents: money('seller_payout_cents'),
  billedAt: time('billed_at'),
} as const satisfies ColumnTable;

export const FRAUD_SCORE_COLUMNS = {
  stage: plain('stage'),
  score: num('score'),
  reasons: plain('reasons'),
  action: plain('action'),
  scoredAt: time('scored_at'),
} as const satisfies ColumnTable;

export const CONSENT_COLUMNS = {
  id: expr('$.id::text'),
  campaignId: plain('campaign_id'),
  number: plain('number'),
  leadId: plain('lead_id'),
  source: plain('source'),
  consentedAt: time('consented_at'),
  expiresAt: time('expires_at'),
  certificate: expr("CASE WHEN $.certificate_kind IS NULL THEN NULL ELSE json_build_object('kind', $.certificate_kind, 'id', $.certificate_id) END"),
  text: plain('consent_text'),
  ip: expr('host($.ip)'),
  revokedAt: time('revoked_at'),
  revocationId: expr('$.revocation_id::text'),
  createdAt: time('created_at'),
} as const satisfies ColumnTable;

export const DNC_ENTRY_COLUMNS = {
  list: plain('list_id'),
  number: plain('number'),
  source: plain('source'),
  addedAt: time('added_at'),
} as const satisfies ColumnTable;

// ---- SQL and row mapping ---------------------------------------------------------------------------------------

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * The SELECT list whose rows are the resource itself: `a.balance_cents::float8 AS "balanceCents"`, ... Money
 * is cast to float8 (exact for every amount the API allows; pg reads it as a JS number).
 */
export function selectList(table: ColumnTable, alias?: string, only?: readonly string[]): string {
  const p = alias ? `${alias}.` : '';
  return Object.entries(table)
    .filter(([field]) => !only || only.includes(field))
    .map(([field, c]) => `${columnSql(c, p)} AS ${quoteIdent(field)}`)
    .join(', ');
}

function columnSql(c: Column, prefix: string): string {
  if (c.kind === 'expr') return c.column.replace(/\$\./g, prefix);
  return `${prefix}${c.column}${c.kind === 'money' || c.kind === 'number' ? '::float8' : ''}`;
}

/**
 * `json_build_object(...)` of the resource from a row alias, for nested lists Postgres aggregates
 * (`json_agg(${jsonObject(ATTEMPT_COLUMNS, 'a')})`): the same field names and kinds as selectList.
 */
export function jsonObject(table: ColumnTable, alias: string): string {
  return `json_build_object(${Object.entries(table)
    .map(([field, c]) => `'${field}', ${columnSql(c, `${alias}.`)}`)
    .join(', ')})`;
}

const toNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const toIso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));

/** A function from a raw row (snake_case columns, bigint as text, Dates) to the resource. Build once per table. */
export function rowMapper<T extends ColumnTable>(table: T): (row: Record<string, unknown>) => { [K in keyof T]: unknown } {
  const entries = Object.entries(table).map(([field, c]) => [field, c.column, c.kind] as const);
  return (row) => {
    const out: Record<string, unknown> = {};
    for (const [field, column, kind] of entries) {
      const v = row[column];
      out[field] = kind === 'money' || kind === 'number' ? toNumber(v) : kind === 'time' ? toIso(v) : (v ?? null);
    }
    return out as { [K in keyof T]: unknown };
  };
}

const camel = (column: string): string => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * A raw row in the API's shape when there is no resource for it (the privacy export, which hands over every
 * record held about a number as it is stored): column names in camelCase, money (`*_cents` bigints) as numbers,
 * timestamps as ISO text. Nested JSON values (a trace) are left as stored.
 */
export function camelRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, v] of Object.entries(row)) {
    out[camel(column)] = column.endsWith('_cents') && typeof v === 'string' ? Number(v) : v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** Every list of raw rows in a document, through camelRow. */
export function camelCaseRecords(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = Array.isArray(v) ? v.map((r) => (r !== null && typeof r === 'object' ? camelRow(r as Record<string, unknown>) : r)) : v;
  return out;
}

/** The column behind an API field of a table (for writes and filters). */
export const columnOf = (table: ColumnTable, field: string): string | undefined => table[field]?.column;

// ---- ids -------------------------------------------------------------------------------------------------------

/** A server-made id when the client names none: `<prefix>_<16 hex>`, inside every route's id pattern. */
export const newId = (prefix: 'acct' | 'cmp' | 'tgt'): string => `${prefix}_${randomBytes(8).toString('hex')}`;

// ---- response schemas ------------------------------------------------------------------------------------------
// Built once at module load (never per request); /openapi.json publishes them and test/api/openapi-responses
// checks every documented route's answers against them.

const Timestamp = z.string().meta({ format: 'date-time' });
const Cents = z.number().int();
const Id = z.string();

export const AccountResource = z.object({
  id: Id,
  kind: z.enum(['buyer', 'seller', 'platform']),
  name: z.string(),
  active: z.boolean(),
  balanceCents: Cents,
  creditLimitCents: Cents,
  maxBidCents: Cents.nullable(),
  seesBuyerDetails: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'Account' });

export const ApiKeyResource = z.object({
  id: Id,
  role: z.enum(['admin', 'agent', 'seller', 'buyer']),
  accountId: Id.nullable(),
  label: z.string(),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
}).meta({ id: 'ApiKey' });

/** A key as created: the secret itself, shown only in this answer. */
export const CreatedApiKeyResource = ApiKeyResource.extend({ key: z.string(), note: z.string() }).meta({ id: 'CreatedApiKey' });

export const TrackingNumberResource = z.object({
  did: z.string(),
  campaignId: Id,
  sellerAccountId: Id,
  active: z.boolean(),
  createdAt: Timestamp,
}).meta({ id: 'TrackingNumber' });

export const CampaignResource = z.object({
  id: Id,
  sellerAccountId: Id,
  name: z.string(),
  active: z.boolean(),
  routing: z.enum(['first_price', 'second_price', 'priority_weight']),
  floorCents: Cents,
  requireConsent: z.boolean(),
  blockLitigators: z.boolean(),
  minAttestation: z.enum(['A', 'B']).nullable(),
  allowedCountries: z.array(z.string()),
  bidDeadlineMs: z.number().int(),
  payoutCents: Cents.nullable(),
  payoutPercent: z.number().nullable(),
  duplicateWindowDays: z.number().int(),
  allowNegativeMargin: z.boolean(),
  outboundConsentExempt: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'Campaign' });

/** One campaign with its tracking numbers (GET /v1/campaigns/:id). */
export const CampaignDetailResource = CampaignResource.extend({ trackingNumbers: z.array(TrackingNumberResource) }).meta({ id: 'CampaignDetail' });

const nullableInt = z.number().int().nullable();
export const TargetResource = z.object({
  id: Id,
  buyerAccountId: Id,
  campaignId: Id,
  name: z.string(),
  active: z.boolean(),
  bidCents: Cents,
  destination: z.string().nullable(),
  answerTimeoutSec: z.number().int(),
  targeting: z.record(z.string(), z.unknown()),
  schedule: z.record(z.string(), z.unknown()).nullable(),
  capConcurrency: nullableInt,
  capHourly: nullableInt,
  capDaily: nullableInt,
  capMonthly: nullableInt,
  qualityScore: z.number(),
  priority: z.number().int(),
  weight: z.number().int(),
  convertOnSeconds: z.number().int(),
  bidVersion: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'Target' });

/**
 * A call as the list shows it. The buyer side (winnerTargetId, winnerBuyerId, priceCents) is null for a viewer
 * that may not see it (projections.ts).
 */
export const CallResource = z.object({
  id: Id,
  direction: z.enum(['inbound', 'outbound']),
  ani: z.string(),
  dnis: z.string(),
  campaignId: Id.nullable(),
  sellerAccountId: Id.nullable(),
  outcome: z.string().nullable(),
  rejectReason: z.string().nullable(),
  winnerTargetId: Id.nullable(),
  winnerBuyerId: Id.nullable(),
  priceCents: Cents.nullable(),
  startedAt: Timestamp,
  decidedAt: Timestamp.nullable(),
  answeredAt: Timestamp.nullable(),
  bridgedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  durationSec: nullableInt,
  billableSec: nullableInt,
  hangupCause: z.string().nullable(),
  hungUpBy: z.string().nullable(),
  endReason: z.string().nullable(),
  switchName: z.string().nullable(),
  endIsLowerBound: z.boolean(),
}).meta({ id: 'Call' });

/** A buyer leg tried on a call; who was rung is left out for a seller without buyer details. */
export const AttemptResource = z.object({
  attemptNo: z.number().int(),
  targetId: Id.optional(),
  buyerId: Id.optional(),
  destination: z.string().optional(),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  status: z.string(),
  cause: z.string().nullable(),
}).meta({ id: 'Attempt' });

/** A call's billing; each party sees its own amount (projections.ts). */
export const BillingResource = z.object({
  converted: z.boolean(),
  duplicate: z.boolean(),
  reason: z.string().nullable(),
  buyerChargeCents: Cents.optional(),
  sellerPayoutCents: Cents.optional(),
  billedAt: Timestamp,
}).meta({ id: 'Billing' });

export const PostingResource = z.object({
  kind: z.string(),
  accountId: Id,
  amountCents: Cents,
  createdAt: Timestamp,
}).meta({ id: 'Posting' });

export const FraudScoreResource = z.object({
  stage: z.string(),
  score: z.number(),
  reasons: z.unknown(),
  action: z.string().nullable(),
  scoredAt: Timestamp,
}).meta({ id: 'FraudScore' });

/** One call with everything held about it; `trace` and `fraud` for operators only. */
export const CallDetailResource = CallResource.extend({
  attempts: z.array(AttemptResource),
  billing: BillingResource.nullable(),
  postings: z.array(PostingResource),
  trace: z.unknown().optional(),
  fraud: z.array(FraudScoreResource).optional(),
}).meta({ id: 'CallDetail' });

export const BalanceResource = z.object({
  accountId: Id,
  kind: z.enum(['buyer', 'seller', 'platform']),
  balanceCents: Cents,
  creditLimitCents: Cents,
  availableCents: Cents,
}).meta({ id: 'Balance' });

export const LedgerEntryResource = z.object({
  id: z.number().int(),
  amountCents: Cents,
  at: Timestamp,
  kind: z.string(),
  callId: Id.nullable(),
  campaignId: Id.nullable(),
  memo: z.string().nullable(),
}).meta({ id: 'LedgerEntry' });

export const InvoiceResource = z.object({
  accountId: Id,
  from: Timestamp,
  to: Timestamp,
  lines: z.array(z.object({ campaignId: Id.nullable(), kind: z.string(), transactions: z.number().int(), totalCents: Cents })),
  totalCents: Cents,
}).meta({ id: 'Invoice' });

/** A closed period of an account (`created`: in the answer to the POST that closed it, false on a repeat). */
export const SettlementResource = z.object({
  accountId: Id,
  from: Timestamp,
  to: Timestamp,
  totalCents: Cents,
  calls: z.number().int(),
  closedAt: Timestamp,
  created: z.boolean().optional(),
}).meta({ id: 'Settlement' });

export const SETTLEMENT_COLUMNS = {
  accountId: plain('account_id'),
  from: time('period_start'),
  to: time('period_end'),
  totalCents: money('total_cents'),
  calls: plain('calls'),
  closedAt: time('closed_at'),
} as const satisfies ColumnTable;

export const ConsentResource = z.object({
  id: Id,
  campaignId: Id,
  number: z.string(),
  leadId: z.string(),
  source: z.string(),
  consentedAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  certificate: z.object({ kind: z.string(), id: z.string() }).nullable(),
  text: z.string().nullable(),
  ip: z.string().nullable(),
  revokedAt: Timestamp.nullable(),
  revocationId: Id.nullable(),
  createdAt: Timestamp,
}).meta({ id: 'Consent' });

export const DncEntryResource = z.object({
  list: z.string(),
  number: z.string(),
  source: z.string().nullable(),
  addedAt: Timestamp,
}).meta({ id: 'DncEntry' });

export const BlockResource = z.object({
  number: z.string(),
  reason: z.string(),
  addedAt: Timestamp,
}).meta({ id: 'Block' });

/** An opaque cursor over a list ordered by one key (an id, a number): base64url of the last key seen. */
export const encodeKeyCursor = (key: string | number): string => Buffer.from(String(key)).toString('base64url');
/** The key in a cursor, or undefined when it is not one this API made for a key of this shape. */
export function decodeKeyCursor(cursor: string, shape: RegExp): string | undefined {
  const key = Buffer.from(cursor, 'base64url').toString();
  return shape.test(key) ? key : undefined;
}

/** `{items, nextCursor}`: every list answers with one page of its items and the opaque cursor of the next. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const ErrorResource = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }).catchall(z.unknown()),
}).meta({ id: 'Error' });

// ---- mappers (built once) --------------------------------------------------------------------------------------

export const toAccount = rowMapper(ACCOUNT_COLUMNS);
export const toApiKey = rowMapper(API_KEY_COLUMNS);
export const toCampaign = rowMapper(CAMPAIGN_COLUMNS);
export const toTrackingNumber = rowMapper(TRACKING_NUMBER_COLUMNS);
export const toTarget = rowMapper(TARGET_COLUMNS);
export const toCall = rowMapper(CALL_COLUMNS);

// ---- read-only fields ------------------------------------------------------------------------------------------

/**
 * Fields a resource shows but a PATCH does not change. A PATCH may carry them (a GET echoed back) as long as
 * the identity ones still name the same thing (`identity`: refused when they differ); the ones the server keeps
 * (`derived`: timestamps, balances, nested lists) are ignored.
 */
export const readOnlyFields = {
  account: { identity: ['id', 'kind'], derived: ['balanceCents', 'createdAt', 'updatedAt'] },
  campaign: { identity: ['id', 'sellerAccountId'], derived: ['createdAt', 'updatedAt', 'trackingNumbers'] },
  target: { identity: ['id', 'buyerAccountId', 'campaignId'], derived: ['bidVersion', 'createdAt', 'updatedAt'] },
} as const;
