/**
 * Sellers' pings over HTTP (issue 15, README "Real-time bidding" > "Sellers' pings"): a seller asks what a call is
 * worth before sending it (POST /rtb/ping), reads its ping counts and limits, and an admin sets a seller's limits.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { SELLER_REJECT_CODES } from '../domain/seller-ping';
import type { SellerPings } from '../exchange/seller-pings';
import type { SellerPingCounts, PingLimits } from '../cache/seller-ping-counts';
import { countSellerBids, effectiveLimits, loadPingLimits, savePingLimits } from '../store/seller-bids-repo';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { int4, parseIsoDate, text } from './schemas';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');
const TagKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tag names: letters, digits, _ . : - (1-64)');

const PingBody = z
  .object({
    campaignId: Id,
    callerId: z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +13125550100').optional(),
    zip: z.string().regex(/^\d{5}(-\d{4})?$/, 'must be a 5-digit zip or ZIP+4').optional(),
    state: z.string().regex(/^[A-Z]{2}$/, 'must be a 2-letter USPS state code, e.g. IL').optional(),
    tags: z.record(TagKey, text({ min: 0, max: 256 })).refine((t) => Object.keys(t).length <= 20, 'at most 20 tags').optional(),
  })
  .strict()
  .refine((b) => b.zip !== undefined || b.state !== undefined, { message: 'give the caller\'s zip or state', path: ['zip'] });

/** The answer to a ping (documentation: /openapi.json's response schema). */
const PingAnswer = z.union([
  z.object({
    bidId: z.string().meta({ description: 'the bid; a repeated ping before expiry gets the same one' }),
    bidAmountCents: z.number().int().meta({ description: 'what the seller is paid for the call if it converts (its payout at the price bid), integer cents' }),
    phoneNumber: z.string().meta({ description: 'the campaign tracking number (E.164) the call must arrive on' }),
    sipAddress: z.string().optional().meta({ description: 'the same number as a SIP URI on the exchange\'s SIP host, when the deployment sets RTB_SELLER_SIP_HOST' }),
    expireInSeconds: z.number().int().meta({ description: 'how long the bid and its reservation last' }),
    reserved: z.boolean().meta({ description: 'true: the buyer is held for a call from callerId to phoneNumber until expiry, at this price; false (no callerId): informational, the call is auctioned anew' }),
  }),
  z.object({
    bidId: z.null(),
    bidAmountCents: z.literal(0),
    expireInSeconds: z.literal(0),
    rejectReason: z.enum(SELLER_REJECT_CODES),
    retryAfterSeconds: z.number().int().optional().meta({ description: 'rate_limited: when the full window reopens (also the Retry-After header)' }),
  }),
]);

const StatsQuery = z.object({
  sellerAccountId: Id.optional(),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day, YYYY-MM-DD').refine((d) => parseIsoDate(d) !== undefined, 'must be a real day between 1970-01-01 and 9999-12-31').optional(),
}).strict();

const perWindow = z.object({ perMinute: z.number().int(), perHour: z.number().int(), perDay: z.number().int() });
/** A seller's pings on a UTC day, its bids, and its limits with what it used of them now. */
const PingStats = z.object({
  sellerAccountId: z.string(),
  day: z.string().meta({ description: 'YYYY-MM-DD (UTC)' }),
  pings: z.object({
    total: z.number().int(),
    bids: z.number().int(),
    repeats: z.number().int(),
    informational: z.number().int(),
    rejected: z.record(z.string(), z.number().int()).meta({ description: 'pings answered with a zero bid, by rejectReason' }),
  }),
  bids: z.object({ issued: z.number().int(), reserved: z.number().int(), claimed: z.number().int().meta({ description: 'bids a call arrived for' }) }),
  limits: perWindow.meta({ description: 'the limits in force (0: none)' }),
  used: z.object({ minute: z.number().int(), hour: z.number().int(), day: z.number().int() }).meta({ description: 'pings counted in the current minute, hour and day' }),
}).meta({ id: 'RtbPingStats' });
/** A seller's own limits (null: the deployment's default) and the limits in force. */
const PingLimitsAnswer = z.object({
  sellerAccountId: z.string(),
  overrides: z.object({ perMinute: z.number().int().nullable(), perHour: z.number().int().nullable(), perDay: z.number().int().nullable() }),
  limits: perWindow,
}).meta({ id: 'RtbPingLimits' });

const limit = int4(0).nullable().optional();
const LimitsBody = z.object({ perMinute: limit, perHour: limit, perDay: limit }).strict();
const IdParam = z.object({ id: Id });

export const rtbSellerRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/rtb/ping',
    summary: 'A seller asks what a call is worth before sending it. 200 {bidId, bidAmountCents (the seller\'s payout if the call converts, integer cents), phoneNumber (the tracking number to send the call to; sipAddress too when the deployment has a SIP host), expireInSeconds, reserved} or a zero bid {bidId: null, bidAmountCents: 0, expireInSeconds: 0, rejectReason: disabled|filtered|no_capacity|caller_blocked|closed_or_capped|rate_limited}. With callerId the bid reserves the buyer until it expires, for a call from that caller to that number; without it the bid is informational and the call is auctioned anew',
    roles: ['admin', 'seller'],
    body: PingBody,
    response: PingAnswer,
  },
  { method: 'get', path: '/v1/rtb/pings/stats', summary: 'A seller\'s pings on a UTC day (default today) by outcome, bids issued and claimed by calls, and its ping limits and what it used of them now', roles: ['admin', 'agent', 'seller'], query: StatsQuery, response: PingStats },
  { method: 'patch', path: '/v1/accounts/:id/rtb-ping-limits', summary: 'Set a seller\'s ping limits per minute, hour and day (0: no limit; null: the deployment\'s default)', roles: ['admin'], params: IdParam, body: LimitsBody, response: PingLimitsAnswer },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

export function rtbSellerRoutes(pings: SellerPings, counts: SellerPingCounts, pool: Pool, defaults: PingLimits, clock: () => Date = () => new Date()): ExpressRouter {
  const router = ExpressRouter();

  router.post('/rtb/ping', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const body = parse(PingBody, req.body);
      const campaign = pings.campaign(body.campaignId);
      if (!campaign) throw new ApiError(404, 'not_found', `no campaign ${body.campaignId}`, 'campaignId');
      assertOwns(req.principal!, campaign.sellerAccountId);
      const answer = await pings.ping({
        sellerAccountId: campaign.sellerAccountId,
        campaignId: campaign.id,
        callerE164: body.callerId ? normalizeE164(body.callerId) : undefined,
        zip: body.zip,
        state: body.state,
        tags: body.tags ?? {},
      });
      if ('retryAfterSeconds' in answer && answer.retryAfterSeconds) res.set('Retry-After', String(answer.retryAfterSeconds));
      res.json(answer);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/rtb/pings/stats', requireRole('admin', 'agent', 'seller'), async (req, res, next) => {
    try {
      const q = parse(StatsQuery, req.query);
      const principal = req.principal!;
      const sellerAccountId = principal.role === 'seller' ? (q.sellerAccountId ?? principal.accountId!) : q.sellerAccountId;
      if (!sellerAccountId) throw new ApiError(400, 'validation_failed', 'sellerAccountId: required for admin and agent keys', 'sellerAccountId');
      if (principal.role === 'seller') assertOwns(principal, sellerAccountId);
      const now = clock();
      const day = q.day ?? now.toISOString().slice(0, 10);
      const from = new Date(`${day}T00:00:00Z`);
      const overrides = await loadPingLimits(pool, sellerAccountId);
      const [outcomes, used, bids] = await Promise.all([
        counts.outcomes(sellerAccountId, day),
        counts.used(sellerAccountId, now.getTime()),
        countSellerBids(pool, sellerAccountId, from, new Date(from.getTime() + 86_400_000)),
      ]);
      const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
      const rejected = Object.fromEntries(Object.entries(outcomes).filter(([k]) => !['bid', 'repeat', 'informational'].includes(k)));
      res.json({
        sellerAccountId,
        day,
        pings: { total, bids: outcomes.bid ?? 0, repeats: outcomes.repeat ?? 0, informational: outcomes.informational ?? 0, rejected },
        bids,
        limits: effectiveLimits(overrides, defaults),
        used,
      });
    } catch (err) {
      next(err);
    }
  });

  router.patch('/v1/accounts/:id/rtb-ping-limits', requireRole('admin'), async (req, res, next) => {
    try {
      const { id } = parse(IdParam, req.params);
      const change = parse(LimitsBody, req.body);
      const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM accounts WHERE id = $1', [id]);
      if (rows[0]?.kind !== 'seller') throw new ApiError(404, 'not_found', `no seller account ${id}`, 'id');
      const overrides = await savePingLimits(pool, id, change);
      await pings.limitsSaved(id, overrides);
      res.json({ sellerAccountId: id, overrides, limits: effectiveLimits(overrides, defaults) });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
