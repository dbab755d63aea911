/**
 * Consent records over HTTP: record a consumer's consent for a campaign (lead id, source, when, its evidence and
 * expiry), list them, and take a consumer's revocation. A live, unexpired record admits the consumer from the next
 * call (the Redis set screening reads is written with the record): every outbound call needs one unless an admin
 * exempted the campaign, inbound calls when the campaign requires consent. A revocation (DELETE of a record, or
 * POST /v1/consent-revocations by number) reaches every campaign of the seller at once and puts the number on the
 * seller's internal DNC list. Admins act on any campaign; a seller on its own campaigns; agents may read.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { CERTIFICATE_KINDS, REVOCATION_CHANNELS } from '../domain/consent';
import { recordConsent, revokeConsentForSeller } from '../store/compliance-repo';
import type { Logger } from '../observability/logger';
import { preparedJsonQuery } from '../store/pg-rows';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cursorParam, isoDate, queryInt, spanMs, text } from './schemas';
import { CONSENT_COLUMNS, ConsentResource, decodeKeyCursor, encodeKeyCursor, pageOf, selectList } from './resources';

const PhoneNumber = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const CampaignId = text({ max: 100 });
const CreateBody = z
  .object({
    campaignId: CampaignId,
    number: PhoneNumber,
    leadId: text({ max: 200, trim: true }),
    source: text({ max: 200, trim: true }),
    consentedAt: isoDate(),
    /** default: consentedAt + CONSENT_VALIDITY_DAYS */
    expiresAt: isoDate().optional(),
    certificate: z.object({ kind: z.enum(CERTIFICATE_KINDS), id: text({ max: 200, trim: true }) }).strict().optional(),
    /** the consent language the consumer was shown */
    text: text({ max: 10_000 }).optional(),
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  })
  .strict()
  .refine((b) => !b.expiresAt || !(spanMs({ from: b.consentedAt, to: b.expiresAt }) <= 0), { message: 'must be after consentedAt', path: ['expiresAt'] });
const RevocationBody = z
  .object({
    number: PhoneNumber,
    /** the campaign it was received on (its seller's every campaign is reached); or name the seller */
    campaignId: CampaignId.optional(),
    sellerAccountId: text({ max: 100 }).optional(),
    channel: z.enum(REVOCATION_CHANNELS).default('api'),
    /** when the consumer said it; default now */
    receivedAt: isoDate().optional(),
    detail: text({ min: 0, max: 2000 }).optional(),
  })
  .strict();
const ListQuery = z.object({
  campaignId: CampaignId.optional(),
  number: PhoneNumber.optional(),
  includeRevoked: z.enum(['true', 'false']).default('false'),
  limit: queryInt(1, 500).default(100),
  cursor: cursorParam().optional(),
});
const IdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'is not a consent record id') });
const RevokedConsent = z.object({
  id: z.string(), campaignId: z.string(), number: z.string(), status: z.literal('revoked'), revocationId: z.string(), campaignIds: z.array(z.string()), recordsRevoked: z.number().int(),
});
const Revocation = z.object({
  id: z.string(), sellerAccountId: z.string(), number: z.string(), channel: z.string(), campaignIds: z.array(z.string()), recordsRevoked: z.number().int(), dncList: z.string(),
});

export const consentRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/consents', summary: 'Record a caller\'s consent for a campaign', roles: ['admin', 'seller'], body: CreateBody, response: ConsentResource, successStatus: [201], errorStatus: [409] },
  { method: 'get', path: '/v1/consents', summary: 'Consent records, newest first, a page at a time', roles: ['admin', 'agent', 'seller'], query: ListQuery, response: pageOf(ConsentResource) },
  { method: 'delete', path: '/v1/consents/:id', summary: 'The consumer revoked this consent: revokes every consent of the seller for the number and adds it to the seller\'s DNC list', roles: ['admin', 'seller'], params: IdParam, response: RevokedConsent, errorStatus: [409] },
  { method: 'post', path: '/v1/consent-revocations', summary: 'A consumer\'s "stop calling me", by number: revokes every consent of the seller for it and adds it to the seller\'s DNC list', roles: ['admin', 'seller'], body: RevocationBody, response: Revocation, successStatus: [201] },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** A consent record as a resource (app/api/resources.ts): the request's own field names. */
const RECORD_COLUMNS = selectList(CONSENT_COLUMNS, 'r');
const RECORD_ID = /^[1-9]\d{0,17}$/;

export function consentRoutes(pool: Pool, redis: Redis, opts: { validityDays: number; logger?: Logger }): ExpressRouter {
  const router = ExpressRouter();

  /**
   * The campaign must exist and, for a seller, be its own (another's answers 404, as if it did not exist). Agents
   * (platform staff, no account) may read any campaign's records; the routes that write do not admit them.
   */
  const ownCampaign = async (req: Request, campaignId: string): Promise<string> => {
    const { rows } = await pool.query<{ seller_account_id: string }>('SELECT seller_account_id FROM campaigns WHERE id = $1', [campaignId]);
    if (!rows[0]) throw new ApiError(404, 'not_found', `campaign ${campaignId} not found`, 'campaignId');
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].seller_account_id);
    return rows[0].seller_account_id;
  };

  router.post('/v1/consents', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const b = parse(CreateBody, req.body);
      if (b.consentedAt.getTime() > Date.now() + 60_000) throw new ApiError(400, 'validation_failed', 'consentedAt: is in the future', 'consentedAt');
      const sellerId = await ownCampaign(req, b.campaignId);
      const number = normalizeE164(b.number)!;
      // A consent given before the consumer last told this seller to stop is revoked already (a stale lead re-posted).
      const { rows: revoked } = await pool.query<{ at: Date }>('SELECT max(received_at) AS at FROM consent_revocations WHERE seller_account_id = $1 AND number = $2', [sellerId, number]);
      const revokedAt = revoked[0]?.at;
      if (revokedAt && b.consentedAt.getTime() <= revokedAt.getTime()) {
        throw new ApiError(409, 'revoked_since', `the consumer revoked consent with this seller at ${revokedAt.toISOString()}, after this consent was given`, 'consentedAt');
      }
      const id = await recordConsent(
        pool,
        redis,
        { campaignId: b.campaignId, number, leadId: b.leadId, source: b.source, consentedAt: b.consentedAt, expiresAt: b.expiresAt, certificate: b.certificate, text: b.text, ip: b.ip },
        opts.validityDays,
      );
      const { rows } = await pool.query(preparedJsonQuery(`SELECT ${RECORD_COLUMNS} FROM consent_records r WHERE r.id = $1`, [id]));
      res.status(201).json(rows[0]);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/consents', requireRole('admin', 'agent', 'seller'), async (req, res, next) => {
    try {
      const q = parse(ListQuery, req.query);
      const principal = req.principal!;
      if (q.campaignId) await ownCampaign(req, q.campaignId);
      const params: unknown[] = [];
      const where: string[] = [];
      const add = (sql: (n: number) => string, v: unknown): void => {
        params.push(v);
        where.push(sql(params.length));
      };
      // A seller sees its own campaigns' records only, with or without a campaign filter.
      if (principal.role === 'seller') add((n) => `c.seller_account_id = $${n}`, principal.accountId);
      if (q.campaignId) add((n) => `r.campaign_id = $${n}`, q.campaignId);
      if (q.number) add((n) => `r.number = $${n}`, normalizeE164(q.number));
      if (q.includeRevoked === 'false') where.push('r.revoked_at IS NULL');
      if (q.cursor) {
        const after = decodeKeyCursor(q.cursor, RECORD_ID);
        if (!after) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
        add((n) => `r.id < $${n}::bigint`, after);
      }
      params.push(q.limit);
      const { rows } = await pool.query<{ id: string }>(
        preparedJsonQuery(
          `SELECT ${RECORD_COLUMNS} FROM consent_records r JOIN campaigns c ON c.id = r.campaign_id
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT $${params.length}`,
          params,
        ),
      );
      const last = rows[rows.length - 1];
      res.json({ items: rows, nextCursor: rows.length === q.limit && last ? encodeKeyCursor(last.id) : null });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/consents/:id', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const { id } = parse(IdParam, req.params);
      const { rows } = await pool.query<{ seller_account_id: string; campaign_id: string; number: string; revoked_at: Date | null }>(
        'SELECT c.seller_account_id, r.campaign_id, r.number, r.revoked_at FROM consent_records r JOIN campaigns c ON c.id = r.campaign_id WHERE r.id = $1',
        [id],
      );
      const record = rows[0];
      if (!record) throw new ApiError(404, 'not_found', 'no such consent record');
      assertOwns(req.principal!, record.seller_account_id);
      if (record.revoked_at) throw new ApiError(409, 'already_revoked', 'this consent record is already revoked');
      const r = await revokeConsentForSeller(pool, redis, { sellerId: record.seller_account_id, number: record.number, channel: 'api', receivedAt: new Date(), campaignId: record.campaign_id });
      opts.logger?.info({ revocationId: r.id, sellerId: r.sellerId, campaigns: r.campaignIds.length, records: r.recordsRevoked }, 'consent revoked for every campaign of the seller');
      res.json({ id, campaignId: record.campaign_id, number: record.number, status: 'revoked', revocationId: r.id, campaignIds: r.campaignIds, recordsRevoked: r.recordsRevoked });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/consent-revocations', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const b = parse(RevocationBody, req.body);
      const principal = req.principal!;
      if (b.receivedAt && b.receivedAt.getTime() > Date.now() + 60_000) throw new ApiError(400, 'validation_failed', 'receivedAt: is in the future', 'receivedAt');
      let sellerId = b.sellerAccountId ?? (principal.role === 'seller' ? principal.accountId : undefined);
      if (b.campaignId) {
        await ownCampaign(req, b.campaignId);
        const { rows } = await pool.query<{ seller_account_id: string }>('SELECT seller_account_id FROM campaigns WHERE id = $1', [b.campaignId]);
        if (b.sellerAccountId && b.sellerAccountId !== rows[0]!.seller_account_id) throw new ApiError(400, 'validation_failed', 'sellerAccountId: is not the campaign\'s seller', 'sellerAccountId');
        sellerId = rows[0]!.seller_account_id;
      }
      if (!sellerId) throw new ApiError(400, 'validation_failed', 'campaignId: name the campaign or the seller (sellerAccountId) the consumer revoked consent with', 'campaignId');
      const { rows } = await pool.query<{ id: string }>("SELECT id FROM accounts WHERE id = $1 AND kind = 'seller'", [sellerId]);
      if (!rows[0]) throw new ApiError(404, 'not_found', 'no such seller', 'sellerAccountId');
      assertOwns(principal, sellerId);
      const number = normalizeE164(b.number)!;
      const r = await revokeConsentForSeller(pool, redis, { sellerId, number, channel: b.channel, receivedAt: b.receivedAt ?? new Date(), campaignId: b.campaignId, detail: b.detail });
      opts.logger?.info({ revocationId: r.id, sellerId, channel: b.channel, campaigns: r.campaignIds.length, records: r.recordsRevoked }, 'consent revoked for every campaign of the seller');
      res.status(201).json({ id: r.id, sellerAccountId: sellerId, number, channel: b.channel, campaignIds: r.campaignIds, recordsRevoked: r.recordsRevoked, dncList: `seller:${sellerId}` });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
