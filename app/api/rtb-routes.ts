/**
 * RTB buyers' figures over HTTP (issue 15): per target, the pings this node sent, how they ended, the response
 * times and the buyer's circuit breaker. A buyer sees its own targets, admins and agents all.
 */
import { Router as ExpressRouter, type NextFunction, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { RtbPinger, RtbTargetStats } from '../exchange/rtb-pinger';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { pageOf } from './resources';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');
const IdParam = z.object({ id: Id }).strict();
const ListQuery = z.object({ buyerAccountId: Id.optional() }).strict();

const count = z.number().int();
/** One RTB target's ping figures on this node (app/exchange/rtb-pinger.ts RtbTargetStats). */
export const RtbTargetStatsResource = z.object({
  targetId: z.string(),
  buyerAccountId: z.string(),
  pings: count,
  bids: count,
  noBids: count,
  invalid: count,
  errors: count,
  late: count,
  timeouts: count,
  skipped: count,
  timeoutRate: z.number().nullable().meta({ description: '(late + timeouts) / pings sent; null before the first ping' }),
  responseMs: z.object({ samples: count, p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }).nullable(),
  breaker: z.enum(['closed', 'open', 'half_open']),
}).meta({ id: 'RtbTargetStats' });
/** One target's figures, and whether it has an RTB endpoint now. */
const RtbTargetStatsDetail = RtbTargetStatsResource.extend({ rtbEndpoint: z.boolean() }).meta({ id: 'RtbTargetStatsDetail' });

export const rtbRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/targets/:id/rtb-stats', summary: 'One RTB target\'s pings on this node: counts by outcome, timeoutRate, responseMs percentiles, its buyer\'s circuit breaker', roles: ['admin', 'agent', 'buyer'], params: IdParam, response: RtbTargetStatsDetail },
  { method: 'get', path: '/v1/rtb-stats', summary: 'Every RTB target\'s ping figures on this node (a buyer\'s own; admins and agents may filter by buyerAccountId), by target id, all in one page (nextCursor is null)', roles: ['admin', 'agent', 'buyer'], query: ListQuery, response: pageOf(RtbTargetStatsResource) },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** A target never pinged on this node: zero counts. */
const unpinged = (targetId: string, buyerAccountId: string): RtbTargetStats => ({
  targetId, buyerAccountId, pings: 0, bids: 0, noBids: 0, invalid: 0, errors: 0, late: 0, timeouts: 0, skipped: 0, timeoutRate: null, responseMs: null, breaker: 'closed',
});

export function rtbRoutes(pool: Pool, pinger: RtbPinger): ExpressRouter {
  const router = ExpressRouter();
  const wrap = (fn: (req: Request) => Promise<unknown>) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.json(await fn(req));
    } catch (err) {
      next(err);
    }
  };

  router.get('/v1/targets/:id/rtb-stats', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => {
    const { id } = parse(IdParam, req.params);
    const { rows } = await pool.query<{ buyer_account_id: string; rtb_url: string | null }>('SELECT buyer_account_id, rtb_url FROM buyer_targets WHERE id = $1', [id]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such target');
    if (req.principal!.role === 'buyer') assertOwns(req.principal!, rows[0].buyer_account_id);
    return { ...(pinger.targetStats(id) ?? unpinged(id, rows[0].buyer_account_id)), rtbEndpoint: rows[0].rtb_url !== null };
  }));

  router.get('/v1/rtb-stats', requireRole('admin', 'agent', 'buyer'), wrap(async (req) => {
    const q = parse(ListQuery, req.query);
    const p = req.principal!;
    if (p.role === 'buyer' && q.buyerAccountId !== undefined && q.buyerAccountId !== p.accountId) throw new ApiError(404, 'not_found', 'no such resource');
    const buyer = p.role === 'buyer' ? p.accountId! : q.buyerAccountId;
    // Every target with an RTB endpoint (pinged here or not), and any this node pinged before its endpoint was removed.
    const { rows } = await pool.query<{ id: string; buyer_account_id: string }>(
      'SELECT id, buyer_account_id FROM buyer_targets WHERE rtb_url IS NOT NULL AND ($1::text IS NULL OR buyer_account_id = $1) ORDER BY id',
      [buyer ?? null],
    );
    const byId = new Map(pinger.allStats(buyer).map((s) => [s.targetId, s]));
    const stats = rows.map((r) => byId.get(r.id) ?? unpinged(r.id, r.buyer_account_id));
    for (const s of byId.values()) if (!rows.some((r) => r.id === s.targetId)) stats.push(s);
    // Every target in one page: the figures live in this node's memory, one row per RTB target.
    return { items: stats, nextCursor: null };
  }));

  return router;
}
