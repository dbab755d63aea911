/**
 * The routing config over HTTP: accounts and their API keys (admins), campaigns and tracking numbers (admins and
 * the campaign's seller), buyer targets with bids, targeting, schedule and caps (admins and the target's buyer).
 * Every write commits to Postgres and then tells every node to reload its snapshot: the next call sees it.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { parseDestination } from '../domain/destination';
import { RTB_SHARE_FIELDS } from '../domain/model';
import { isPrivateAddress } from '../domain/rtb';
import { publishConfigChanged } from '../exchange/snapshot-source';
import { createApiKey, type ApiPrincipal } from '../store/api-keys';
import { inTransaction } from '../store/db';
import { changedFields, writeAudit } from '../store/audit-repo';
import { publishAccessRevoked } from './access-invalidation';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cents, cursorParam, int4, MAX_BID_CENTS, queryInt, text } from './schemas';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');
const IdParam = z.object({ id: Id });
const E164 = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18885550100');

const AccountBody = z.object({ id: Id, kind: z.enum(['buyer', 'seller']), name: text({ max: 200 }), creditLimitCents: cents().default(0) }).strict();
// seesBuyerDetails: a seller account sees the buyer side of its calls (buyer ids, targets, prices); see projections.ts.
const AccountPatch = z.object({ name: text({ max: 200 }), creditLimitCents: cents(), active: z.boolean(), seesBuyerDetails: z.boolean() }).partial().strict();
/** The most a buyer's own keys may bid on any of its targets (null: no limit); admins set it. */
const MaxBid = z.object({ maxBidCents: cents({ max: MAX_BID_CENTS }).nullable() }).partial();
const AccountBodyWithLimit = AccountBody.extend(MaxBid.shape).strict();
const AccountPatchWithLimit = AccountPatch.extend(MaxBid.shape).strict();
const KeyBody = z.object({ role: z.enum(['admin', 'agent', 'seller', 'buyer']), accountId: Id.optional(), label: text({ min: 0, max: 200 }).default('') }).strict()
  .refine((k) => k.role === 'admin' || k.role === 'agent' || k.accountId !== undefined, { message: 'seller and buyer keys need an account', path: ['accountId'] })
  .refine((k) => (k.role !== 'admin' && k.role !== 'agent') || k.accountId === undefined, { message: 'admin and agent keys act for the platform, not an account', path: ['accountId'] });
/** A page of a list ordered by id: the cursor is the last id seen, opaque to clients. */
const PageQuery = z.object({
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();
const encodeIdCursor = (id: string): string => Buffer.from(id).toString('base64url');
function decodeIdCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
  return id;
}
const KeyId = z.string().regex(/^key_[0-9a-f]{12}$/, 'is not a key id');
const KeyParams = z.object({ id: Id, keyId: KeyId });
const KeyIdParam = z.object({ keyId: KeyId });

const campaignFields = {
  name: text({ max: 200 }),
  active: z.boolean(),
  routing: z.enum(['first_price', 'second_price', 'priority_weight']),
  floorCents: cents(),
  requireConsent: z.boolean(),
  blockLitigators: z.boolean(),
  minAttestation: z.enum(['A', 'B']).nullable(),
  /** countries outside the US and Canada the campaign may call (no calling-hours rules are held for them) */
  allowedCountries: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code').refine((c) => c !== 'US' && c !== 'CA', 'US and Canada are always allowed under their own rules')).max(250),
  bidDeadlineMs: int4(0, 5000),
  payoutCents: cents().nullable(),
  payoutPercent: z.number().min(0).max(100).nullable(),
  duplicateWindowDays: int4(0, 365),
  allowNegativeMargin: z.boolean(),
  outboundConsentExempt: z.boolean(),
  /** the call facts RTB buyers are told in a ping (issue 15); none by default */
  rtbShare: z.array(z.enum(RTB_SHARE_FIELDS)).max(RTB_SHARE_FIELDS.length).refine((l) => new Set(l).size === l.length, 'lists a fact twice'),
};
const CampaignBody = z.object({ id: Id, sellerAccountId: Id, ...campaignFields }).partial({ active: true, routing: true, floorCents: true, requireConsent: true, blockLitigators: true, minAttestation: true, allowedCountries: true, bidDeadlineMs: true, payoutCents: true, payoutPercent: true, duplicateWindowDays: true, allowNegativeMargin: true, outboundConsentExempt: true, rtbShare: true }).strict()
  .refine((c) => c.payoutCents == null || c.payoutPercent == null, { message: 'a payout is a fixed amount or a share, not both', path: ['payoutPercent'] });
const CampaignPatch = z.object(campaignFields).partial().strict();
const NumberBody = z.object({ did: E164 }).strict();
const NumberParams = z.object({ id: Id, did: E164 });

const Interval = z.tuple([int4(0, 1440), int4(0, 1440)]).refine(([a, b]) => a < b, 'start must be before end');
const Schedule = z.object({
  timeZone: z.string().min(1).max(100).refine((tz) => { try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; } }, 'is not a known time zone'),
  hours: z.record(z.enum(['0', '1', '2', '3', '4', '5', '6']), z.array(Interval)),
}).strict();
const Targeting = z.object({
  states: z.array(z.string().regex(/^[A-Z]{2}$/)).optional(),
  excludeStates: z.array(z.string().regex(/^[A-Z]{2}$/)).optional(),
  areaCodes: z.array(z.string().regex(/^[2-9]\d\d$/)).optional(),
  zips: z.array(z.string().regex(/^\d{5}$/)).optional(),
}).strict();
const cap = int4(1).nullable();
const targetFields = {
  name: text({ max: 200 }),
  active: z.boolean(),
  bidCents: cents({ max: MAX_BID_CENTS }),
  destination: z.string().min(1).max(300).refine((d) => parseDestination(normalizeE164(d) ?? d).ok, 'must be a SIP URI sip:user@host[:port] (no parameters) or a phone number'),
  answerTimeoutSec: int4(1, 120),
  targeting: Targeting,
  schedule: Schedule.nullable(),
  capConcurrency: cap,
  capHourly: cap,
  capDaily: cap,
  capMonthly: cap,
  qualityScore: z.number().min(0).max(1),
  priority: int4(),
  weight: int4(),
  convertOnSeconds: int4(),
  /** an RTB endpoint pinged for a bid at each call (issue 15): http:// or https:// only */
  rtbUrl: z.string().max(2000).refine(isRtbUrl, 'must be an http:// or https:// URL without credentials').nullable(),
  /** the bounds an RTB answer's amount must lie within (null: none) */
  rtbMinBidCents: cents({ max: MAX_BID_CENTS }).nullable(),
  rtbMaxBidCents: cents({ max: MAX_BID_CENTS }).nullable(),
};
const TargetBody = z.object({ id: Id, buyerAccountId: Id, campaignId: Id, ...targetFields })
  .partial({ active: true, answerTimeoutSec: true, targeting: true, schedule: true, capConcurrency: true, capHourly: true, capDaily: true, capMonthly: true, qualityScore: true, priority: true, weight: true, convertOnSeconds: true, destination: true, rtbUrl: true, rtbMinBidCents: true, rtbMaxBidCents: true })
  .strict()
  // An RTB target's answers may name the destination; any other target needs one of its own.
  .refine((t) => t.destination !== undefined || (t.rtbUrl !== undefined && t.rtbUrl !== null), { message: 'required unless the target has an rtbUrl', path: ['destination'] })
  .refine((t) => t.rtbMinBidCents == null || t.rtbMaxBidCents == null || t.rtbMinBidCents <= t.rtbMaxBidCents, { message: 'must not be over rtbMaxBidCents', path: ['rtbMinBidCents'] });
const TargetPatch = z.object(targetFields).partial().strict();

const COLUMNS: Record<string, string> = {
  name: 'name', active: 'active', routing: 'routing', floorCents: 'floor_cents', requireConsent: 'require_consent', blockLitigators: 'block_litigators', minAttestation: 'min_attestation', allowedCountries: 'allowed_countries',
  bidDeadlineMs: 'bid_deadline_ms', payoutCents: 'payout_cents', payoutPercent: 'payout_percent', duplicateWindowDays: 'duplicate_window_days',
  creditLimitCents: 'credit_limit_cents', seesBuyerDetails: 'sees_buyer_details', bidCents: 'bid_cents', destination: 'destination', answerTimeoutSec: 'answer_timeout_sec',
  targeting: 'targeting', schedule: 'schedule', capConcurrency: 'cap_concurrency', capHourly: 'cap_hourly', capDaily: 'cap_daily',
  capMonthly: 'cap_monthly', qualityScore: 'quality_score', priority: 'priority', weight: 'weight', convertOnSeconds: 'convert_on_seconds',
  rtbShare: 'rtb_share', rtbUrl: 'rtb_url', rtbMinBidCents: 'rtb_min_bid_cents', rtbMaxBidCents: 'rtb_max_bid_cents',
  allowNegativeMargin: 'allow_negative_margin', maxBidCents: 'max_bid_cents', outboundConsentExempt: 'outbound_consent_exempt',
  sellerAccountId: 'seller_account_id', buyerAccountId: 'buyer_account_id', campaignId: 'campaign_id', id: 'id', kind: 'kind',
};
function isRtbUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.hostname !== '';
  } catch {
    return false;
  }
}
const dbValue = (v: unknown): unknown => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);

/**
 * Who may set a price (issue 13): the platform. Fields of a campaign only admins set, because they decide what the
 * seller is paid and who wins its calls; fields of a target only admins set, because they rank it in the auction or
 * decide when its buyer pays. A seller or buyer naming one gets 403 naming them all.
 */
// blockLitigators ("TCPA Shield"): the platform decides whom its exchange will not call or connect.
// outboundConsentExempt: calling consumers without consent on record is the platform's decision (issue 14).
const PLATFORM_CAMPAIGN_FIELDS = ['payoutCents', 'payoutPercent', 'floorCents', 'routing', 'allowNegativeMargin', 'duplicateWindowDays', 'blockLitigators', 'outboundConsentExempt'] as const;
const PLATFORM_TARGET_FIELDS = ['qualityScore', 'priority', 'weight', 'convertOnSeconds'] as const;
/** The money settings whose every change goes to the audit trail (API field -> column). */
const AUDITED = {
  campaign: pick(['payoutCents', 'payoutPercent', 'floorCents', 'routing', 'allowNegativeMargin', 'duplicateWindowDays', 'blockLitigators', 'outboundConsentExempt']),
  target: pick(['bidCents', 'qualityScore', 'priority', 'weight', 'convertOnSeconds']),
  account: pick(['creditLimitCents', 'maxBidCents', 'active']),
};
const TABLES: Record<keyof typeof AUDITED, string> = { campaign: 'campaigns', target: 'buyer_targets', account: 'accounts' };
function pick(fields: string[]): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f, COLUMNS[f]!]));
}

function assertPlatformFields(principal: ApiPrincipal, body: Record<string, unknown>, fields: readonly string[], what: string): void {
  if (principal.role === 'admin') return;
  const named = fields.filter((f) => body[f] !== undefined);
  if (named.length > 0) throw new ApiError(403, 'forbidden_field', `only the platform (an admin) sets a ${what}'s ${named.join(', ')}`, named[0]);
}

export const configRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/accounts', summary: 'Create a buyer or seller account', roles: ['admin'], body: AccountBodyWithLimit },
  { method: 'get', path: '/v1/accounts/:id', summary: 'One account', roles: ['admin', 'seller', 'buyer'], params: IdParam },
  { method: 'patch', path: '/v1/accounts/:id', summary: 'Rename, set credit or a buyer\'s max bid, pause an account (its keys are refused at once), let a seller see the buyer side of its calls (seesBuyerDetails)', roles: ['admin'], params: IdParam, body: AccountPatchWithLimit },
  { method: 'post', path: '/v1/api-keys', summary: 'Create an API key (shown once)', roles: ['admin'], body: KeyBody },
  { method: 'get', path: '/v1/accounts/:id/api-keys', summary: 'An account\'s keys (never the keys themselves)', roles: ['admin'], params: IdParam },
  { method: 'delete', path: '/v1/accounts/:id/api-keys/:keyId', summary: 'Revoke an account\'s key', roles: ['admin'], params: KeyParams },
  { method: 'delete', path: '/v1/api-keys/:keyId', summary: 'Revoke any key, admin and agent keys included (refused on every node at once)', roles: ['admin'], params: KeyIdParam },
  { method: 'post', path: '/v1/campaigns', summary: 'Create a campaign (payout, floor, routing, margin and duplicate window: admins only)', roles: ['admin', 'seller'], body: CampaignBody },
  { method: 'get', path: '/v1/campaigns', summary: 'Campaigns (a seller\'s own), by id, a page at a time', roles: ['admin', 'agent', 'seller'], query: PageQuery },
  { method: 'get', path: '/v1/campaigns/:id', summary: 'One campaign with its tracking numbers', roles: ['admin', 'agent', 'seller'], params: IdParam },
  { method: 'patch', path: '/v1/campaigns/:id', summary: 'Change a campaign (payout, floor, routing, margin and duplicate window: admins only)', roles: ['admin', 'seller'], params: IdParam, body: CampaignPatch },
  { method: 'post', path: '/v1/campaigns/:id/numbers', summary: 'Add a tracking number', roles: ['admin', 'seller'], params: IdParam, body: NumberBody },
  { method: 'delete', path: '/v1/campaigns/:id/numbers/:did', summary: 'Release a tracking number', roles: ['admin', 'seller'], params: NumberParams },
  { method: 'post', path: '/v1/targets', summary: 'Create a buyer target (a standing bid on a campaign, up to the account\'s max bid, and/or an RTB endpoint pinged for a bid at each call: rtbUrl, rtbMinBidCents, rtbMaxBidCents)', roles: ['admin', 'buyer'], body: TargetBody },
  { method: 'get', path: '/v1/targets', summary: 'Targets (a buyer\'s own), by id, a page at a time', roles: ['admin', 'agent', 'buyer'], query: PageQuery },
  { method: 'get', path: '/v1/targets/:id', summary: 'One target', roles: ['admin', 'agent', 'buyer'], params: IdParam },
  { method: 'patch', path: '/v1/targets/:id', summary: 'Change a target (bid, targeting, schedule, caps, destination; quality, priority, weight, conversion: admins only)', roles: ['admin', 'buyer'], params: IdParam, body: TargetPatch },
  { method: 'delete', path: '/v1/targets/:id', summary: 'Deactivate a target', roles: ['admin', 'buyer'], params: IdParam },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** Postgres errors a request can cause, as API errors naming the field. */
function dbError(err: unknown): never {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23505') throw new ApiError(409, 'conflict', `already exists${e.detail ? `: ${e.detail}` : ''}`, e.constraint?.includes('pkey') ? 'id' : undefined);
  if (e.code === '23503') throw new ApiError(422, 'unknown_reference', `refers to something that does not exist${e.detail ? `: ${e.detail}` : ''}`);
  if (e.code === '23514') throw new ApiError(422, 'invalid', `refused by a rule of the data${e.constraint ? ` (${e.constraint})` : ''}`);
  throw err;
}

export function configRoutes(pool: Pool, redis: Redis, redisPrefix: string, opts: { rtbAllowPrivateAddresses?: boolean } = {}): ExpressRouter {
  const router = ExpressRouter();
  /** An RTB endpoint on the exchange's own network is refused unless the operator allows it (RTB_ALLOW_PRIVATE_ADDRESSES). */
  const assertRtbUrlAllowed = (url: string | null | undefined): void => {
    if (!url || opts.rtbAllowPrivateAddresses || !isPrivateAddress(new URL(url).hostname)) return;
    throw new ApiError(400, 'validation_failed', 'rtbUrl: is a loopback or private address', 'rtbUrl');
  };
  const changed = (what: string) => publishConfigChanged(redis, redisPrefix, what);
  const wrap = (fn: (req: Request) => Promise<{ status?: number; body: unknown }>) => async (req: Request, res: import('express').Response, next: import('express').NextFunction) => {
    try {
      const r = await fn(req);
      res.status(r.status ?? 200).json(r.body);
    } catch (err) {
      next(err);
    }
  };
  /**
   * Changes a row and writes the audit rows of its money settings in the same transaction (the row locked while
   * it is read and written, so the old values are the ones replaced). `alsoSet`: assignments that go with the patch
   * (SQL, no parameters). Undefined when there is no such row.
   */
  const update = async (req: Request, entity: keyof typeof AUDITED, id: string, patch: Record<string, unknown>, alsoSet: string[] = []) => {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) throw new ApiError(400, 'validation_failed', 'nothing to change');
    const table = TABLES[entity];
    const sets = [...entries.map(([k], i) => `${COLUMNS[k]} = $${i + 2}`), ...alsoSet];
    return inTransaction(pool, async (c) => {
      const before = (await c.query(`SELECT * FROM ${table} WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (!before) return undefined;
      const { rows } = await c.query(`UPDATE ${table} SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`, [id, ...entries.map(([, v]) => dbValue(v))]);
      await writeAudit(c, req.principal!, changedFields(entity, id, before, rows[0], AUDITED[entity]));
      return rows[0];
    }).catch(dbError);
  };
  /** Inserts a row; its money settings that are set go to the audit trail (old value null) in the same transaction. */
  const insert = async (req: Request, entity: keyof typeof AUDITED, values: Record<string, unknown>) => {
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    return inTransaction(pool, async (c) => {
      const { rows } = await c.query(
        `INSERT INTO ${TABLES[entity]} (${entries.map(([k]) => COLUMNS[k]).join(', ')}) VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        entries.map(([, v]) => dbValue(v)),
      );
      await writeAudit(c, req.principal!, changedFields(entity, String(values.id), undefined, rows[0], AUDITED[entity]));
      return rows[0];
    }).catch(dbError);
  };
  /** A buyer's own keys bid at most its account's max bid (admins set it, and are not held to it). */
  const assertBidAllowed = async (req: Request, buyerAccountId: string, bidCents: number | undefined, field = 'bidCents'): Promise<void> => {
    if (bidCents === undefined || req.principal!.role === 'admin') return;
    const { rows } = await pool.query<{ max: string | null }>('SELECT max_bid_cents AS max FROM accounts WHERE id = $1', [buyerAccountId]);
    const max = rows[0]?.max;
    if (max !== null && max !== undefined && bidCents > Number(max)) throw new ApiError(422, 'bid_over_limit', `${field}: ${bidCents} is over this account's maximum bid of ${max} (set by the platform)`, field);
  };
  /** A seller key acts for a seller account, a buyer key for a buyer's; campaigns belong to sellers, targets to buyers. */
  const assertKind = async (accountId: string, kind: 'seller' | 'buyer', field: string): Promise<void> => {
    const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM accounts WHERE id = $1', [accountId]);
    if (!rows[0]) throw new ApiError(422, 'unknown_reference', `no account ${accountId}`, field);
    if (rows[0].kind !== kind) throw new ApiError(422, 'wrong_account_kind', `account ${accountId} is a ${rows[0].kind} account, not a ${kind} account`, field);
  };
  /** One page of a table ordered by id, limited to an owner's rows when `owner` is set; `next` is null on the last page. */
  const listPage = async (table: 'campaigns' | 'buyer_targets', ownerColumn: string, owner: string | null, q: z.infer<typeof PageQuery>) => {
    const after = q.cursor === undefined ? null : decodeIdCursor(q.cursor);
    const { rows } = await pool.query(
      `SELECT * FROM ${table} WHERE ($1::text IS NULL OR ${ownerColumn} = $1) AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [owner, after, q.limit],
    );
    const last = rows[rows.length - 1] as { id: string } | undefined;
    return { rows, next: rows.length === q.limit && last ? encodeIdCursor(last.id) : null };
  };
  const campaignOf = async (req: Request, id: string) => {
    const { rows } = await pool.query('SELECT * FROM campaigns WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such campaign');
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].seller_account_id);
    return rows[0];
  };
  const targetOf = async (req: Request, id: string) => {
    const { rows } = await pool.query('SELECT * FROM buyer_targets WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such target');
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].buyer_account_id);
    return rows[0];
  };

  // ---- accounts and keys -----------------------------------------------------------------------------------
  router.post('/v1/accounts', requireRole('admin'), wrap(async (req) => {
    const b = parse(AccountBodyWithLimit, req.body);
    const row = await insert(req, 'account', { id: b.id, kind: b.kind, name: b.name, creditLimitCents: b.creditLimitCents, maxBidCents: b.maxBidCents });
    await changed(`account ${b.id}`);
    return { status: 201, body: row };
  }));
  router.get('/v1/accounts/:id', requireRole('admin', 'seller', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    assertOwns(req.principal!, id);
    const { rows } = await pool.query('SELECT id, kind, name, active, balance_cents::float8 AS balance_cents, credit_limit_cents::float8 AS credit_limit_cents, sees_buyer_details, created_at FROM accounts WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such account');
    return { body: rows[0] };
  }));
  router.patch('/v1/accounts/:id', requireRole('admin'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const patch = parse(AccountPatchWithLimit, req.body);
    const row = await update(req, 'account', id, patch);
    if (!row) throw new ApiError(404, 'not_found', 'no such account');
    await changed(`account ${id}`);
    // Paused or reactivated: every node drops what it cached of the account's keys and closes their live sockets.
    if (patch.active !== undefined) await publishAccessRevoked(redis, redisPrefix, { accountId: id });
    return { body: row };
  }));
  router.post('/v1/api-keys', requireRole('admin'), wrap(async (req) => {
    const b = parse(KeyBody, req.body);
    if ((b.role === 'seller' || b.role === 'buyer') && b.accountId) await assertKind(b.accountId, b.role, 'accountId');
    const { id, key } = await createApiKey(pool, { role: b.role, ...(b.accountId ? { accountId: b.accountId } : {}), label: b.label }).catch(dbError);
    return { status: 201, body: { id, key, role: b.role, accountId: b.accountId ?? null, note: 'the key is shown only now; it is stored hashed' } };
  }));
  router.get('/v1/accounts/:id/api-keys', requireRole('admin'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const { rows } = await pool.query('SELECT id, role, label, created_at, revoked_at FROM api_keys WHERE account_id = $1 ORDER BY created_at', [id]);
    return { body: { keys: rows } };
  }));
  router.delete('/v1/accounts/:id/api-keys/:keyId', requireRole('admin'), wrap(async (req) => {
    const p = parse(KeyParams, req.params);
    const { rowCount } = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL', [p.keyId, p.id]);
    if (!rowCount) throw new ApiError(404, 'not_found', 'no such live key on this account');
    await publishAccessRevoked(redis, redisPrefix, { keyId: p.keyId });
    return { body: { id: p.keyId, revoked: true } };
  }));
  router.delete('/v1/api-keys/:keyId', requireRole('admin'), wrap(async (req) => {
    const { keyId } = parse(KeyIdParam, req.params);
    const { rowCount } = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [keyId]);
    if (!rowCount) throw new ApiError(404, 'not_found', 'no such live key');
    await publishAccessRevoked(redis, redisPrefix, { keyId });
    return { body: { id: keyId, revoked: true } };
  }));

  // ---- campaigns and tracking numbers ------------------------------------------------------------------------
  router.post('/v1/campaigns', requireRole('admin', 'seller'), wrap(async (req) => {
    const b = parse(CampaignBody, req.body);
    assertOwns(req.principal!, b.sellerAccountId);
    assertPlatformFields(req.principal!, b, PLATFORM_CAMPAIGN_FIELDS, 'campaign');
    await assertKind(b.sellerAccountId, 'seller', 'sellerAccountId');
    const row = await insert(req, 'campaign', b);
    await changed(`campaign ${b.id}`);
    return { status: 201, body: row };
  }));
  router.get('/v1/campaigns', requireRole('admin', 'agent', 'seller'), wrap(async (req) => {
    const p = req.principal!;
    const page = await listPage('campaigns', 'seller_account_id', p.role === 'seller' ? p.accountId! : null, parse(PageQuery, req.query));
    return { body: { campaigns: page.rows, next: page.next } };
  }));
  router.get('/v1/campaigns/:id', requireRole('admin', 'agent', 'seller'), wrap(async (req) => {
    const c = await campaignOf(req, parse(IdParam, req.params).id);
    const { rows } = await pool.query('SELECT did, active, created_at FROM tracking_numbers WHERE campaign_id = $1 ORDER BY did', [c.id]);
    return { body: { ...c, trackingNumbers: rows } };
  }));
  router.patch('/v1/campaigns/:id', requireRole('admin', 'seller'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    await campaignOf(req, id);
    const patch = parse(CampaignPatch, req.body);
    assertPlatformFields(req.principal!, patch, PLATFORM_CAMPAIGN_FIELDS, 'campaign');
    const row = await update(req, 'campaign', id, patch);
    await changed(`campaign ${id}`);
    return { body: row };
  }));
  router.post('/v1/campaigns/:id/numbers', requireRole('admin', 'seller'), wrap(async (req) => {
    const c = await campaignOf(req, parse(IdParam, req.params).id);
    const did = normalizeE164(parse(NumberBody, req.body).did)!;
    await pool.query('INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, $2, $3)', [did, c.id, c.seller_account_id]).catch(dbError);
    await changed(`number ${did}`);
    return { status: 201, body: { did, campaignId: c.id } };
  }));
  router.delete('/v1/campaigns/:id/numbers/:did', requireRole('admin', 'seller'), wrap(async (req) => {
    const p = parse(NumberParams, req.params);
    const c = await campaignOf(req, p.id);
    const did = normalizeE164(p.did)!;
    const { rowCount } = await pool.query('DELETE FROM tracking_numbers WHERE did = $1 AND campaign_id = $2', [did, c.id]);
    if (!rowCount) throw new ApiError(404, 'not_found', 'no such number on this campaign');
    await changed(`number ${did}`);
    return { body: { did, released: true } };
  }));

  // ---- buyer targets -------------------------------------------------------------------------------------------
  router.post('/v1/targets', requireRole('admin', 'buyer'), wrap(async (req) => {
    const b = parse(TargetBody, req.body);
    assertOwns(req.principal!, b.buyerAccountId);
    assertPlatformFields(req.principal!, b, PLATFORM_TARGET_FIELDS, 'target');
    await assertKind(b.buyerAccountId, 'buyer', 'buyerAccountId');
    await assertBidAllowed(req, b.buyerAccountId, b.bidCents);
    await assertBidAllowed(req, b.buyerAccountId, b.rtbMaxBidCents ?? undefined, 'rtbMaxBidCents');
    assertRtbUrlAllowed(b.rtbUrl);
    const destination = b.destination === undefined ? undefined : normalizeE164(b.destination) ?? b.destination;
    const row = await insert(req, 'target', { ...b, destination });
    await changed(`target ${b.id}`);
    return { status: 201, body: row };
  }));
  router.get('/v1/targets', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => {
    const p = req.principal!;
    const page = await listPage('buyer_targets', 'buyer_account_id', p.role === 'buyer' ? p.accountId! : null, parse(PageQuery, req.query));
    return { body: { targets: page.rows, next: page.next } };
  }));
  router.get('/v1/targets/:id', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => ({ body: await targetOf(req, parse(IdParam, req.params).id) })));
  router.patch('/v1/targets/:id', requireRole('admin', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const target = await targetOf(req, id);
    const patch = parse(TargetPatch, req.body);
    assertPlatformFields(req.principal!, patch, PLATFORM_TARGET_FIELDS, 'target');
    await assertBidAllowed(req, target.buyer_account_id, patch.bidCents);
    await assertBidAllowed(req, target.buyer_account_id, patch.rtbMaxBidCents ?? undefined, 'rtbMaxBidCents');
    assertRtbUrlAllowed(patch.rtbUrl);
    if (patch.destination) patch.destination = normalizeE164(patch.destination) ?? patch.destination;
    // A new standing bid bumps the target's bid version, as the bid writer's do (nodes order bid messages by it).
    const row = await update(req, 'target', id, patch, patch.bidCents !== undefined ? ['bid_version = bid_version + 1'] : []);
    await changed(`target ${id}`);
    return { body: row };
  }));
  router.delete('/v1/targets/:id', requireRole('admin', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    await targetOf(req, id);
    const row = await update(req, 'target', id, { active: false });
    await changed(`target ${id}`);
    return { body: { id: row.id, active: false } };
  }));

  return router;
}
