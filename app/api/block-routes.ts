/**
 * The caller block list over HTTP: block a caller by hand (abuse reports, chargebacks), look one up, list them a
 * page at a time, lift a block. Screening refuses a blocked caller (`blocked_caller`) from the next call: the
 * writers in fraud-repo update Postgres and the Redis set screening reads. Every block and lift is audited in
 * fraud_actions with the key that did it.
 *
 * Admins write; agents may read. Sellers may not: blocked_numbers is one platform-wide list (no campaign), so a
 * seller's block would refuse the caller on every other seller's campaigns too. A seller keeps a caller away from
 * its own campaigns with its campaign DNC list (`POST /v1/dnc {list: "campaign:<id>"}`, refused as dnc_campaign).
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { blockByOperator, liftBlock, listBlocks } from '../store/fraud-repo';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cursorParam, decodeTimeCursor, encodeTimeCursor, queryInt, text } from './schemas';
import { BlockResource, pageOf } from './resources';

const Blocked = z.object({ number: z.string(), reason: z.string(), status: z.literal('blocked') });
const Lifted = z.object({ number: z.string(), status: z.literal('lifted') });

const PhoneNumber = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const NumberParam = z.object({ number: PhoneNumber });
const BlockBody = z.object({ number: PhoneNumber, reason: text({ max: 500, trim: true }) }).strict();
const ListQuery = z.object({
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
});

export const blockRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/fraud/blocks', summary: 'The caller block list, newest first, a page at a time', roles: ['admin', 'agent'], query: ListQuery, response: pageOf(BlockResource) },
  { method: 'get', path: '/v1/fraud/blocks/:number', summary: 'One blocked caller (404 when the number is not blocked)', roles: ['admin', 'agent'], params: NumberParam, response: BlockResource },
  { method: 'post', path: '/v1/fraud/blocks', summary: 'Block a caller by hand (audited); screening refuses it from the next call', roles: ['admin'], body: BlockBody, response: Blocked, successStatus: [201] },
  { method: 'delete', path: '/v1/fraud/blocks/:number', summary: 'Lift a block (audited)', roles: ['admin'], params: NumberParam, response: Lifted },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** The cursor is the last row's (addedAt, number), so pages stay stable while blocks are added. */
const encodeCursor = encodeTimeCursor;
const decodeCursor = (c: string): [string, string] => decodeTimeCursor(c, /^\+[1-9]\d{6,14}$/);

export function blockRoutes(pool: Pool, redis: Redis): ExpressRouter {
  const router = ExpressRouter();

  router.get('/v1/fraud/blocks', requireRole('admin', 'agent'), async (req, res, next) => {
    try {
      const q = parse(ListQuery, req.query);
      const blocks = await listBlocks(pool, { limit: q.limit, ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}) });
      const last = blocks[blocks.length - 1];
      res.json({ items: blocks, nextCursor: blocks.length === q.limit && last ? encodeCursor(last.addedAt, last.number) : null });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/fraud/blocks/:number', requireRole('admin', 'agent'), async (req, res, next) => {
    try {
      const number = normalizeE164(parse(NumberParam, req.params).number)!;
      const [block] = await listBlocks(pool, { number, limit: 1 });
      if (!block) throw new ApiError(404, 'not_found', `${number} is not blocked`, 'number');
      res.json(block);
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/fraud/blocks', requireRole('admin'), async (req, res, next) => {
    try {
      const b = parse(BlockBody, req.body);
      const number = normalizeE164(b.number)!;
      await blockByOperator(pool, redis, number, b.reason, req.principal!.keyId);
      res.status(201).json({ number, reason: b.reason, status: 'blocked' });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/fraud/blocks/:number', requireRole('admin'), async (req, res, next) => {
    try {
      const number = normalizeE164(parse(NumberParam, req.params).number)!;
      if (!(await liftBlock(pool, redis, number, req.principal!.keyId))) throw new ApiError(404, 'not_found', `${number} is not blocked`, 'number');
      res.json({ number, status: 'lifted' });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
