/**
 * Consent records over HTTP: record a caller's consent for a campaign (lead id, source, when), list them, revoke
 * one. Campaigns that require consent admit a caller from the next call once a live record exists (the Redis
 * set screening reads is written with the record). Admins act on any campaign; a seller on its own campaigns;
 * agents may read.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { recordConsent, revokeConsent } from '../store/compliance-repo';
import { preparedJsonQuery } from '../store/pg-rows';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { isoDate, queryInt, text } from './schemas';

const PhoneNumber = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const CampaignId = text({ max: 100 });
const CreateBody = z
  .object({
    campaignId: CampaignId,
    number: PhoneNumber,
    leadId: text({ max: 200, trim: true }),
    source: text({ max: 200, trim: true }),
    consentedAt: isoDate(),
  })
  .strict();
const ListQuery = z.object({
  campaignId: CampaignId.optional(),
  number: PhoneNumber.optional(),
  includeRevoked: z.enum(['true', 'false']).default('false'),
  limit: queryInt(1, 500).default(100),
  cursor: z.string().regex(/^\d{1,18}$/, 'is not a cursor this API returned').optional(),
});
const IdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'is not a consent record id') });

export const consentRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/consents', summary: 'Record a caller\'s consent for a campaign', roles: ['admin', 'seller'], body: CreateBody },
  { method: 'get', path: '/v1/consents', summary: 'Consent records, newest first, a page at a time', roles: ['admin', 'agent', 'seller'], query: ListQuery },
  { method: 'delete', path: '/v1/consents/:id', summary: 'Revoke a consent record', roles: ['admin', 'seller'], params: IdParam },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

const RECORD_COLUMNS = 'r.id::text AS id, r.campaign_id, r.number, r.lead_id, r.source, r.consented_at, r.revoked_at, r.created_at';

export function consentRoutes(pool: Pool, redis: Redis): ExpressRouter {
  const router = ExpressRouter();

  /**
   * The campaign must exist and, for a seller, be its own (another's answers 404, as if it did not exist). Agents
   * (platform staff, no account) may read any campaign's records; the routes that write do not admit them.
   */
  const ownCampaign = async (req: Request, campaignId: string): Promise<void> => {
    const { rows } = await pool.query<{ seller_account_id: string }>('SELECT seller_account_id FROM campaigns WHERE id = $1', [campaignId]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such campaign', 'campaignId');
    if (req.principal!.role !== 'agent') assertOwns(req.principal!, rows[0].seller_account_id);
  };

  router.post('/v1/consents', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const b = parse(CreateBody, req.body);
      if (b.consentedAt.getTime() > Date.now() + 60_000) throw new ApiError(400, 'validation_failed', 'consentedAt: is in the future', 'consentedAt');
      await ownCampaign(req, b.campaignId);
      const number = normalizeE164(b.number)!;
      const id = await recordConsent(pool, redis, { campaignId: b.campaignId, number, leadId: b.leadId, source: b.source, consentedAt: b.consentedAt });
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
      if (q.cursor) add((n) => `r.id < $${n}::bigint`, q.cursor);
      params.push(q.limit);
      const { rows } = await pool.query<{ id: string }>(
        preparedJsonQuery(
          `SELECT ${RECORD_COLUMNS} FROM consent_records r JOIN campaigns c ON c.id = r.campaign_id
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT $${params.length}`,
          params,
        ),
      );
      const last = rows[rows.length - 1];
      res.json({ consents: rows, next: rows.length === q.limit && last ? last.id : null });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/consents/:id', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const { id } = parse(IdParam, req.params);
      const { rows } = await pool.query<{ seller_account_id: string }>(
        'SELECT c.seller_account_id FROM consent_records r JOIN campaigns c ON c.id = r.campaign_id WHERE r.id = $1',
        [id],
      );
      if (!rows[0]) throw new ApiError(404, 'not_found', 'no such consent record');
      assertOwns(req.principal!, rows[0].seller_account_id);
      const revoked = await revokeConsent(pool, redis, id);
      if (!revoked) throw new ApiError(409, 'already_revoked', 'this consent record is already revoked');
      res.json({ id, ...revoked, status: 'revoked' });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
