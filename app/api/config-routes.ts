/**
 * The routing config over HTTP: accounts and their API keys (admins), campaigns and tracking numbers (admins and
 * the campaign's seller), buyer targets with bids, targeting, schedule and caps (admins and the target's buyer).
 * Every write commits to Postgres and then tells every node to reload its snapshot: the next call sees it.
 *
 * Answers are resources (app/api/resources.ts); lists are `{items, nextCursor}` pages ordered by id with
 * filters. Ids are made by the server when a create names none. A PATCH takes the resource's own field names,
 * so a GET echoed back is accepted: read-only fields are ignored when unchanged (identity ones refused when not).
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { parseDestination } from '../domain/destination';
import { RTB_SHARE_FIELDS } from '../domain/model';
import { isPrivateHost } from '../domain/address-scope';
import { publishConfigChanged } from '../exchange/snapshot-source';
import { createApiKey, type ApiPrincipal } from '../store/api-keys';
import { inTransaction } from '../store/db';
import { changedFields, writeAudit } from '../store/audit-repo';
import { publishAccessRevoked } from './access-invalidation';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromDbError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cents, cursorParam, int4, MAX_BID_CENTS, queryInt, text } from './schemas';
import {
  AccountResource, ApiKeyResource, CampaignDetailResource, CampaignResource, CreatedApiKeyResource, newId, pageOf, readOnlyFields, TargetResource,
  toAccount, toApiKey, toCampaign, toTarget, toTrackingNumber, TrackingNumberResource,
} from './resources';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');
const IdParam = z.object({ id: Id });
const E164 = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18885550100');

const AccountBody = z.object({ id: Id.optional(), kind: z.enum(['buyer', 'seller']), name: text({ max: 200 }), creditLimitCents: cents().default(0) }).strict();
// seesBuyerDetails: a seller account sees the buyer side of its calls (buyer ids, targets, prices); see projections.ts.
const AccountPatch = z.object({ name: text({ max: 200 }), creditLimitCents: cents(), active: z.boolean(), seesBuyerDetails: z.boolean() }).partial().strict();
/** Fields a resource shows that a PATCH may carry back unchanged (a GET echoed as a PATCH): see readOnlyFields. */
const echoed = (fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, z.unknown().optional()])) as Record<never, z.ZodOptional<z.ZodUnknown>>;
const echoedOf = (r: { identity: readonly string[]; derived: readonly string[] }) => echoed([...r.identity, ...r.derived]);
/** The most a buyer's own keys may bid on any of its targets (null: no limit); admins set it. */
const MaxBid = z.object({ maxBidCents: cents({ max: MAX_BID_CENTS }).nullable() }).partial();
const AccountBodyWithLimit = AccountBody.extend(MaxBid.shape).strict();
const AccountPatchWithLimit = AccountPatch.extend(MaxBid.shape).extend(echoedOf(readOnlyFields.account)).strict();
const KeyBody = z.object({ role: z.enum(['admin', 'agent', 'seller', 'buyer']), accountId: Id.optional(), label: text({ min: 0, max: 200 }).default('') }).strict()
  .refine((k) => k.role === 'admin' || k.role === 'agent' || k.accountId !== undefined, { message: 'seller and buyer keys need an account', path: ['accountId'] })
  .refine((k) => (k.role !== 'admin' && k.role !== 'agent') || k.accountId === undefined, { message: 'admin and agent keys act for the platform, not an account', path: ['accountId'] });
/** A page of a list ordered by id: the cursor is the last id seen, opaque to clients. */
const PageQuery = z.object({
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();
const queryBool = z.enum(['true', 'false']).transform((v) => v === 'true');
const AccountsQuery = PageQuery.extend({ kind: z.enum(['buyer', 'seller', 'platform']).optional(), active: queryBool.optional() }).strict();
const CampaignsQuery = PageQuery.extend({ sellerAccountId: Id.optional(), active: queryBool.optional() }).strict();
const TargetsQuery = PageQuery.extend({ campaignId: Id.optional(), buyerAccountId: Id.optional(), active: queryBool.optional() }).strict();
const NumbersQuery = PageQuery.extend({ campaignId: Id.optional(), sellerAccountId: Id.optional(), active: queryBool.optional() }).strict();
const KeysQuery = PageQuery.extend({ accountId: Id.optional(), role: z.enum(['admin', 'agent', 'seller', 'buyer']).optional(), revoked: queryBool.optional() }).strict();
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
const CampaignBody = z.object({ id: Id, sellerAccountId: Id, ...campaignFields }).partial({ id: true, active: true, routing: true, floorCents: true, requireConsent: true, blockLitigators: true, minAttestation: true, allowedCountries: true, bidDeadlineMs: true, payoutCents: true, payoutPercent: true, duplicateWindowDays: true, allowNegativeMargin: true, outboundConsentExempt: true, rtbShare: true }).strict()
  .refine((c) => c.payoutCents == null || c.payoutPercent == null, { message: 'a payout is a fixed amount or a share, not both', path: ['payoutPercent'] });
const CampaignPatch = z.object(campaignFields).partial().extend(echoedOf(readOnlyFields.campaign)).strict();
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
  .partial({ id: true, active: true, answerTimeoutSec: true, targeting: true, schedule: true, capConcurrency: true, capHourly: true, capDaily: true, capMonthly: true, qualityScore: true, priority: true, weight: true, convertOnSeconds: true, destination: true, rtbUrl: true, rtbMinBidCents: true, rtbMaxBidCents: true })
  .strict()
  // An RTB target's answers may name the destination; any other target needs one of its own.
  .refine((t) => t.destination !== undefined || (t.rtbUrl !== undefined && t.rtbUrl !== null), { message: 'required unless the target has an rtbUrl', path: ['destination'] })
  .refine((t) => t.rtbMinBidCents == null || t.rtbMaxBidCents == null || t.rtbMinBidCents <= t.rtbMaxBidCents, { message: 'must not be over rtbMaxBidCents', path: ['rtbMinBidCents'] });
const TargetPatch = z.object(targetFields).partial().extend(echoedOf(readOnlyFields.target)).strict();

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
  { method: 'post', path: '/v1/accounts', summary: 'Create a buyer or seller account (the server makes the id when none is given)', roles: ['admin'], body: AccountBodyWithLimit, response: AccountResource, successStatus: [201], errorStatus: [409] },
  { method: 'get', path: '/v1/accounts', summary: 'Accounts by id, a page at a time (admins and agents: all; sellers and buyers: their own), by kind and active', roles: ['admin', 'agent', 'seller', 'buyer'], query: AccountsQuery, response: pageOf(AccountResource) },
  { method: 'get', path: '/v1/accounts/:id', summary: 'One account', roles: ['admin', 'agent', 'seller', 'buyer'], params: IdParam, response: AccountResource },
  { method: 'patch', path: '/v1/accounts/:id', summary: 'Rename, set credit or a buyer\'s max bid, pause an account (its keys are refused at once), let a seller see the buyer side of its calls (seesBuyerDetails)', roles: ['admin'], params: IdParam, body: AccountPatchWithLimit, response: AccountResource },
  { method: 'post', path: '/v1/api-keys', summary: 'Create an API key (shown once)', roles: ['admin'], body: KeyBody, response: CreatedApiKeyResource, successStatus: [201], errorStatus: [422] },
  { method: 'get', path: '/v1/api-keys', summary: 'API keys (never the keys themselves), by id, a page at a time, by account, role and revoked', roles: ['admin'], query: KeysQuery, response: pageOf(ApiKeyResource) },
  { method: 'get', path: '/v1/accounts/:id/api-keys', summary: 'An account\'s keys (never the keys themselves), a page at a time', roles: ['admin'], params: IdParam, query: PageQuery, response: pageOf(ApiKeyResource) },
  { method: 'delete', path: '/v1/accounts/:id/api-keys/:keyId', summary: 'Revoke an account\'s key', roles: ['admin'], params: KeyParams, response: ApiKeyResource },
  { method: 'delete', path: '/v1/api-keys/:keyId', summary: 'Revoke any key, admin and agent keys included (refused on every node at once)', roles: ['admin'], params: KeyIdParam, response: ApiKeyResource },
  { method: 'post', path: '/v1/campaigns', summary: 'Create a campaign (payout, floor, routing, margin and duplicate window: admins only)', roles: ['admin', 'seller'], body: CampaignBody, response: CampaignResource, successStatus: [201], errorStatus: [409, 422] },
  { method: 'get', path: '/v1/campaigns', summary: 'Campaigns (a seller\'s own), by id, a page at a time, by seller and active', roles: ['admin', 'agent', 'seller'], query: CampaignsQuery, response: pageOf(CampaignResource) },
  { method: 'get', path: '/v1/campaigns/:id', summary: 'One campaign with its tracking numbers', roles: ['admin', 'agent', 'seller'], params: IdParam, response: CampaignDetailResource },
  { method: 'patch', path: '/v1/campaigns/:id', summary: 'Change a campaign (payout, floor, routing, margin and duplicate window: admins only)', roles: ['admin', 'seller'], params: IdParam, body: CampaignPatch, response: CampaignResource, errorStatus: [422] },
  { method: 'get', path: '/v1/numbers', summary: 'Tracking numbers (a seller\'s own), by number, a page at a time, by campaign, seller and active', roles: ['admin', 'agent', 'seller'], query: NumbersQuery, response: pageOf(TrackingNumberResource) },
  { method: 'post', path: '/v1/campaigns/:id/numbers', summary: 'Add a tracking number', roles: ['admin', 'seller'], params: IdParam, body: NumberBody, response: TrackingNumberResource, successStatus: [201], errorStatus: [409] },
  { method: 'delete', path: '/v1/campaigns/:id/numbers/:did', summary: 'Release a tracking number', roles: ['admin', 'seller'], params: NumberParams, response: TrackingNumberResource },
  { method: 'post', path: '/v1/targets', summary: 'Create a buyer target (a standing bid on a campaign, up to the account\'s max bid, and/or an RTB endpoint pinged for a bid at each call: rtbUrl, rtbMinBidCents, rtbMaxBidCents)', roles: ['admin', 'buyer'], body: TargetBody, response: TargetResource, successStatus: [201], errorStatus: [409, 422] },
  { method: 'get', path: '/v1/targets', summary: 'Targets (a buyer\'s own), by id, a page at a time, by campaign, buyer and active', roles: ['admin', 'agent', 'buyer'], query: TargetsQuery, response: pageOf(TargetResource) },
  { method: 'get', path: '/v1/targets/:id', summary: 'One target', roles: ['admin', 'agent', 'buyer'], params: IdParam, response: TargetResource },
  { method: 'patch', path: '/v1/targets/:id', summary: 'Change a target (bid, targeting, schedule, caps, destination; quality, priority, weight, conversion: admins only)', roles: ['admin', 'buyer'], params: IdParam, body: TargetPatch, response: TargetResource, errorStatus: [422] },
  { method: 'delete', path: '/v1/targets/:id', summary: 'Deactivate a target', roles: ['admin', 'buyer'], params: IdParam, response: TargetResource },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/**
 * A PATCH without the read-only fields a GET echoed back: identity fields (id, owner) must still name the same
 * thing (400 otherwise), the server's own (timestamps, balances, nested lists) are dropped. Fields only the
 * platform sets are dropped for other roles when the body is an echo (it carries the id) and all of them carry
 * the current value, so a seller can echo its campaign.
 */
function withoutEchoed<T extends Record<string, unknown>>(patch: T, current: Record<string, unknown>, ro: { identity: readonly string[]; derived: readonly string[] }, platformFields: readonly string[], principal: ApiPrincipal): T {
  const out: Record<string, unknown> = { ...patch };
  const isEcho = out.id !== undefined;
  for (const f of ro.identity) {
    if (out[f] !== undefined && out[f] !== current[f]) throw new ApiError(400, 'read_only', `${f}: is read-only (it is ${JSON.stringify(current[f])})`, f);
    delete out[f];
  }
  for (const f of ro.derived) delete out[f];
  // A seller's or buyer's echo (a whole resource sent back, with its id) carries the platform's fields
  // unchanged: dropped. Naming any of them otherwise is refused, naming every one (assertPlatformFields).
  if (principal.role !== 'admin' && isEcho) {
    const named = platformFields.filter((f) => out[f] !== undefined);
    if (named.every((f) => JSON.stringify(out[f]) === JSON.stringify(current[f]))) for (const f of named) delete out[f];
  }
  return out as T;
}

const decodeApiKeyCursor = (c: string): string => {
  const id = decodeIdCursor(c);
  if (!/^key_[0-9a-f]{12}$/.test(id)) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
  return id;
};

export function configRoutes(pool: Pool, redis: Redis, redisPrefix: string, opts: { rtbAllowPrivateAddresses?: boolean } = {}): ExpressRouter {
  const router = ExpressRouter();
  /** An RTB endpoint on the exchange's own network is refused unless the operator allows it (RTB_ALLOW_PRIVATE_ADDRESSES). */
  const assertRtbUrlAllowed = (url: string | null | undefined): void => {
    if (!url || opts.rtbAllowPrivateAddresses || !isPrivateHost(new URL(url).hostname)) return;
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
   * (SQL, no parameters). Undefined when there is no such row; otherwise the row as stored (columns).
   */
  const update = async (req: Request, entity: keyof typeof AUDITED, id: string, patch: Record<string, unknown>, alsoSet: string[] = []): Promise<Record<string, unknown> | undefined> => {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) throw new ApiError(400, 'validation_failed', 'nothing to change');
    const table = TABLES[entity];
    const sets = [...entries.map(([k], i) => `${COLUMNS[k]} = $${i + 2}`), ...alsoSet];
    return inTransaction(pool, async (c) => {
      const before = (await c.query(`SELECT * FROM ${table} WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (!before) return undefined;
      const { rows } = await c.query(`UPDATE ${table} SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`, [id, ...entries.map(([, v]) => dbValue(v))]);
      await writeAudit(c, req.principal!, changedFields(entity, id, before, rows[0], AUDITED[entity]));
      return rows[0] as Record<string, unknown>;
    }).catch(fromDbError);
  };
  /** Inserts a row; its money settings that are set go to the audit trail (old value null) in the same transaction. */
  const insert = async (req: Request, entity: keyof typeof AUDITED, values: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    return inTransaction(pool, async (c) => {
      const { rows } = await c.query(
        `INSERT INTO ${TABLES[entity]} (${entries.map(([k]) => COLUMNS[k]).join(', ')}) VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        entries.map(([, v]) => dbValue(v)),
      );
      await writeAudit(c, req.principal!, changedFields(entity, String(values.id), undefined, rows[0], AUDITED[entity]));
      return rows[0] as Record<string, unknown>;
    }).catch(fromDbError);
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
    if (!rows[0]) throw new ApiError(422, 'unknown_reference', `account ${accountId} not found`, field);
    if (rows[0].kind !== kind) throw new ApiError(422, 'wrong_account_kind', `account ${accountId} is a ${rows[0].kind} account, not a ${kind} account`, field);
  };
  /**
   * One page of a table ordered by its key (`id`, or `did` for numbers), filtered by `filters` (column -> value,
   * undefined: no filter); `nextCursor` is null on the last page. Rows are raw (map them to resources).
   */
  const listPage = async (table: string, key: string, filters: Record<string, unknown>, q: { limit: number; cursor?: string | undefined }, decode: (c: string) => string = decodeIdCursor) => {
    const params: unknown[] = [];
    const where: string[] = [];
    for (const [column, value] of Object.entries(filters)) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    if (q.cursor !== undefined) {
      params.push(decode(q.cursor));
      where.push(`${key} > $${params.length}`);
    }
    params.push(q.limit);
    const { rows } = await pool.query(`SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${key} LIMIT $${params.length}`, params);
    const last = rows[rows.length - 1] as Record<string, string> | undefined;
    return { rows: rows as Array<Record<string, unknown>>, nextCursor: rows.length === q.limit && last ? encodeIdCursor(last[key]!) : null };
  };
  const campaignOf = async (req: Request, id: string) => {
    const { rows } = await pool.query('SELECT * FROM campaigns WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `campaign ${id} not found`);
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].seller_account_id);
    return rows[0] as Record<string, unknown> & { id: string; seller_account_id: string };
  };
  const targetOf = async (req: Request, id: string) => {
    const { rows } = await pool.query('SELECT * FROM buyer_targets WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `target ${id} not found`);
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].buyer_account_id);
    return rows[0] as Record<string, unknown> & { id: string; buyer_account_id: string };
  };
  /** Sellers and buyers list only their own; operators filter by the owner they name. */
  const ownerFilter = (req: Request, named: string | undefined): string | undefined => {
    const p = req.principal!;
    if (p.role === 'admin' || p.role === 'agent') return named;
    if (named !== undefined && named !== p.accountId) throw new ApiError(404, 'not_found', 'no such resource');
    return p.accountId!;
  };

  // ---- accounts and keys -----------------------------------------------------------------------------------
  router.post('/v1/accounts', requireRole('admin'), wrap(async (req) => {
    const b = parse(AccountBodyWithLimit, req.body);
    const id = b.id ?? newId('acct');
    const row = await insert(req, 'account', { id, kind: b.kind, name: b.name, creditLimitCents: b.creditLimitCents, maxBidCents: b.maxBidCents });
    await changed(`account ${id}`);
    return { status: 201, body: toAccount(row) };
  }));
  router.get('/v1/accounts', requireRole('admin', 'agent', 'seller', 'buyer'), wrap(async (req) => {
    const q = parse(AccountsQuery, req.query);
    const p = req.principal!;
    const page = await listPage('accounts', 'id', { id: p.role === 'admin' || p.role === 'agent' ? undefined : p.accountId, kind: q.kind, active: q.active }, q);
    return { body: { items: page.rows.map(toAccount), nextCursor: page.nextCursor } };
  }));
  router.get('/v1/accounts/:id', requireRole('admin', 'agent', 'seller', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, id);
    const { rows } = await pool.query('SELECT * FROM accounts WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `account ${id} not found`);
    return { body: toAccount(rows[0]) };
  }));
  router.patch('/v1/accounts/:id', requireRole('admin'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const body = parse(AccountPatchWithLimit, req.body);
    const { rows } = await pool.query('SELECT * FROM accounts WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `account ${id} not found`);
    const patch = withoutEchoed(body, toAccount(rows[0]), readOnlyFields.account, [], req.principal!);
    const row = await update(req, 'account', id, patch);
    if (!row) throw new ApiError(404, 'not_found', `account ${id} not found`);
    await changed(`account ${id}`);
    // Paused or reactivated: every node drops what it cached of the account's keys and closes their live sockets.
    if (patch.active !== undefined) await publishAccessRevoked(redis, redisPrefix, { accountId: id });
    return { body: toAccount(row) };
  }));
  router.post('/v1/api-keys', requireRole('admin'), wrap(async (req) => {
    const b = parse(KeyBody, req.body);
    if ((b.role === 'seller' || b.role === 'buyer') && b.accountId) await assertKind(b.accountId, b.role, 'accountId');
    const { id, key } = await createApiKey(pool, { role: b.role, ...(b.accountId ? { accountId: b.accountId } : {}), label: b.label }).catch(fromDbError);
    const { rows } = await pool.query('SELECT * FROM api_keys WHERE id = $1', [id]);
    return { status: 201, body: { ...toApiKey(rows[0]), key, note: 'the key is shown only now; it is stored hashed' } };
  }));
  router.get('/v1/api-keys', requireRole('admin'), wrap(async (req) => {
    const q = parse(KeysQuery, req.query);
    const page = await listPage('api_keys', 'id', { account_id: q.accountId, role: q.role, '(revoked_at IS NOT NULL)': q.revoked }, q, decodeApiKeyCursor);
    return { body: { items: page.rows.map(toApiKey), nextCursor: page.nextCursor } };
  }));
  router.get('/v1/accounts/:id/api-keys', requireRole('admin'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const q = parse(PageQuery, req.query);
    const page = await listPage('api_keys', 'id', { account_id: id }, q, decodeApiKeyCursor);
    return { body: { items: page.rows.map(toApiKey), nextCursor: page.nextCursor } };
  }));
  const revoke = async (keyId: string, accountId: string | undefined) => {
    const { rows } = await pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND ($2::text IS NULL OR account_id = $2) AND revoked_at IS NULL RETURNING *', [keyId, accountId ?? null]);
    if (!rows[0]) throw new ApiError(404, 'not_found', accountId ? `no live key ${keyId} on account ${accountId}` : `no live key ${keyId}`);
    await publishAccessRevoked(redis, redisPrefix, { keyId });
    return toApiKey(rows[0]);
  };
  router.delete('/v1/accounts/:id/api-keys/:keyId', requireRole('admin'), wrap(async (req) => {
    const p = parse(KeyParams, req.params);
    return { body: await revoke(p.keyId, p.id) };
  }));
  router.delete('/v1/api-keys/:keyId', requireRole('admin'), wrap(async (req) => {
    const { keyId } = parse(KeyIdParam, req.params);
    return { body: await revoke(keyId, undefined) };
  }));

  // ---- campaigns and tracking numbers ------------------------------------------------------------------------
  router.post('/v1/campaigns', requireRole('admin', 'seller'), wrap(async (req) => {
    const b = parse(CampaignBody, req.body);
    assertOwns(req.principal!, b.sellerAccountId);
    assertPlatformFields(req.principal!, b, PLATFORM_CAMPAIGN_FIELDS, 'campaign');
    await assertKind(b.sellerAccountId, 'seller', 'sellerAccountId');
    const id = b.id ?? newId('cmp');
    const row = await insert(req, 'campaign', { ...b, id });
    await changed(`campaign ${id}`);
    return { status: 201, body: toCampaign(row) };
  }));
  router.get('/v1/campaigns', requireRole('admin', 'agent', 'seller'), wrap(async (req) => {
    const q = parse(CampaignsQuery, req.query);
    const page = await listPage('campaigns', 'id', { seller_account_id: ownerFilter(req, q.sellerAccountId), active: q.active }, q);
    return { body: { items: page.rows.map(toCampaign), nextCursor: page.nextCursor } };
  }));
  router.get('/v1/campaigns/:id', requireRole('admin', 'agent', 'seller'), wrap(async (req) => {
    const c = await campaignOf(req, parse(IdParam, req.params).id);
    const { rows } = await pool.query('SELECT * FROM tracking_numbers WHERE campaign_id = $1 ORDER BY did', [c.id]);
    return { body: { ...toCampaign(c), trackingNumbers: rows.map(toTrackingNumber) } };
  }));
  router.patch('/v1/campaigns/:id', requireRole('admin', 'seller'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const current = await campaignOf(req, id);
    const patch = withoutEchoed(parse(CampaignPatch, req.body), toCampaign(current), readOnlyFields.campaign, PLATFORM_CAMPAIGN_FIELDS, req.principal!);
    assertPlatformFields(req.principal!, patch, PLATFORM_CAMPAIGN_FIELDS, 'campaign');
    if (patch.payoutCents != null && patch.payoutPercent != null) throw new ApiError(400, 'validation_failed', 'payoutPercent: a payout is a fixed amount or a share, not both', 'payoutPercent');
    const row = await update(req, 'campaign', id, patch);
    if (!row) throw new ApiError(404, 'not_found', `campaign ${id} not found`);
    await changed(`campaign ${id}`);
    return { body: toCampaign(row) };
  }));
  router.get('/v1/numbers', requireRole('admin', 'agent', 'seller'), wrap(async (req) => {
    const q = parse(NumbersQuery, req.query);
    const decodeDid = (c: string): string => {
      const did = Buffer.from(c, 'base64url').toString();
      if (!/^\+[1-9]\d{6,14}$/.test(did)) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
      return did;
    };
    const page = await listPage('tracking_numbers', 'did', { seller_account_id: ownerFilter(req, q.sellerAccountId), campaign_id: q.campaignId, active: q.active }, q, decodeDid);
    return { body: { items: page.rows.map(toTrackingNumber), nextCursor: page.nextCursor } };
  }));
  router.post('/v1/campaigns/:id/numbers', requireRole('admin', 'seller'), wrap(async (req) => {
    const c = await campaignOf(req, parse(IdParam, req.params).id);
    const did = normalizeE164(parse(NumberBody, req.body).did)!;
    const { rows } = await pool.query('INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, $2, $3) RETURNING *', [did, c.id, c.seller_account_id]).catch(fromDbError);
    await changed(`number ${did}`);
    return { status: 201, body: toTrackingNumber(rows[0]) };
  }));
  router.delete('/v1/campaigns/:id/numbers/:did', requireRole('admin', 'seller'), wrap(async (req) => {
    const p = parse(NumberParams, req.params);
    const c = await campaignOf(req, p.id);
    const did = normalizeE164(p.did)!;
    const { rows } = await pool.query('DELETE FROM tracking_numbers WHERE did = $1 AND campaign_id = $2 RETURNING *', [did, c.id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `tracking number ${did} is not on campaign ${c.id}`);
    await changed(`number ${did}`);
    return { body: { ...toTrackingNumber(rows[0]), active: false } };
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
    const id = b.id ?? newId('tgt');
    const row = await insert(req, 'target', { ...b, id, destination });
    await changed(`target ${id}`);
    return { status: 201, body: toTarget(row) };
  }));
  router.get('/v1/targets', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => {
    const q = parse(TargetsQuery, req.query);
    const page = await listPage('buyer_targets', 'id', { buyer_account_id: ownerFilter(req, q.buyerAccountId), campaign_id: q.campaignId, active: q.active }, q);
    return { body: { items: page.rows.map(toTarget), nextCursor: page.nextCursor } };
  }));
  router.get('/v1/targets/:id', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => ({ body: toTarget(await targetOf(req, parse(IdParam, req.params).id)) })));
  router.patch('/v1/targets/:id', requireRole('admin', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const target = await targetOf(req, id);
    const patch = withoutEchoed(parse(TargetPatch, req.body), toTarget(target), readOnlyFields.target, PLATFORM_TARGET_FIELDS, req.principal!);
    assertPlatformFields(req.principal!, patch, PLATFORM_TARGET_FIELDS, 'target');
    await assertBidAllowed(req, target.buyer_account_id, patch.bidCents);
    await assertBidAllowed(req, target.buyer_account_id, patch.rtbMaxBidCents ?? undefined, 'rtbMaxBidCents');
    assertRtbUrlAllowed(patch.rtbUrl);
    if (patch.destination) patch.destination = normalizeE164(patch.destination) ?? patch.destination;
    // A new standing bid bumps the target's bid version, as the bid writer's do (nodes order bid messages by it);
    // the same bid sent back (a GET echoed as a PATCH) is no new bid.
    const newBid = patch.bidCents !== undefined && patch.bidCents !== Number(target.bid_cents);
    const row = await update(req, 'target', id, patch, newBid ? ['bid_version = bid_version + 1'] : []);
    if (!row) throw new ApiError(404, 'not_found', `target ${id} not found`);
    await changed(`target ${id}`);
    return { body: toTarget(row) };
  }));
  router.delete('/v1/targets/:id', requireRole('admin', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    await targetOf(req, id);
    const row = await update(req, 'target', id, { active: false });
    if (!row) throw new ApiError(404, 'not_found', `target ${id} not found`);
    await changed(`target ${id}`);
    return { body: toTarget(row) };
  }));

  return router;
}
