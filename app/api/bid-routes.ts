/**
 * PATCH /v1/targets/:id/bid `{bidCents}`: a buyer changes one of its standing bids (admins: any); the next
 * auction on every node uses it. Batches go over socket.io (`bids:update`, see app/realtime/live-calls.ts).
 */
import { Router as ExpressRouter } from 'express';
import { z } from 'zod';
import type { BidWriter } from '../store/bid-writer';
import type { BidRefusal } from '../store/bid-updates';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cents, MAX_BID_CENTS, text } from './schemas';
import { sendJsonText } from './json-answer';

const IdParam = z.object({ id: text({ max: 100 }) });
const BidBody = z.object({ bidCents: cents({ max: MAX_BID_CENTS }) }).strict();
/** The standing bid as stored (also what the next auction uses). */
const BidResource = z.object({ targetId: z.string(), bidCents: z.number().int() });

export const bidRouteDocs: RouteDoc[] = [
  { method: 'patch', path: '/v1/targets/:id/bid', summary: 'Change one of your standing bids, up to your account\'s max bid (batches: socket.io bids:update)', roles: ['admin', 'buyer'], params: IdParam, body: BidBody, response: BidResource, errorStatus: [422] },
];

/** A refused bid as the REST API answers it. */
function refusal(error: BidRefusal, bidCents: number): ApiError {
  if (error === 'over_max_bid') return new ApiError(422, 'bid_over_limit', `bidCents: ${bidCents} is over this account's maximum bid (set by the platform)`, 'bidCents');
  if (error === 'key_refused') return new ApiError(401, 'unauthenticated', 'this API key was revoked or its account paused');
  return new ApiError(404, 'not_found', 'no such target');
}

export function bidRoutes(writer: BidWriter): ExpressRouter {
  const router = ExpressRouter();
  router.patch('/v1/targets/:id/bid', requireRole('admin', 'buyer'), async (req, res, next) => {
    try {
      const p = IdParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const b = BidBody.safeParse(req.body);
      if (!b.success) throw fromZod(b.error);
      const [r] = await writer.submit(req.principal!, [{ targetId: p.data.id, bidCents: b.data.bidCents }]);
      if (!r || !r.ok) throw refusal(r?.error ?? 'not_found', b.data.bidCents);
      sendJsonText(req, res, JSON.stringify({ targetId: r.targetId, bidCents: r.bidCents }));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
