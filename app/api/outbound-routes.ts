import { Router as ExpressRouter } from 'express';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import type { OutboundDialer } from '../exchange/outbound-dialer';
import type { SnapshotSource } from '../exchange/snapshot-source';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { int4, text } from './schemas';

const OutboundCallBody = z.object({
  campaignId: text({ max: 100 }),
  to: z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234'),
  zip: z.string().regex(/^\d{5}(-\d{4})?$/, 'must be a 5-digit zip or ZIP+4').optional(),
  leadId: text({ max: 200 }).optional(),
  answerTimeoutSec: int4(5, 120).optional(),
}).strict();

const Dialing = z.object({ callId: z.string(), status: z.literal('dialing') });

export const outboundRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/outbound-calls', summary: 'Call a consumer for a campaign (screened first; 422 call_blocked if not allowed)', roles: ['admin', 'seller'], body: OutboundCallBody, response: Dialing, successStatus: [202], errorStatus: [422, 503] },
];

/**
 * POST /v1/outbound-calls: ask the exchange to call a consumer for a campaign (admin, or the campaign's
 * seller). 422 `call_blocked` with the screening reasons when compliance forbids the call (nothing is
 * dialled); else 202 with the call id while the consumer's phone rings.
 */
export function outboundRoutes(dialer: OutboundDialer, snapshots: SnapshotSource): ExpressRouter {
  const router = ExpressRouter();
  router.post('/v1/outbound-calls', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const parsed = OutboundCallBody.safeParse(req.body);
      if (!parsed.success) throw fromZod(parsed.error);
      const body = parsed.data;
      const campaign = snapshots.current().campaigns.get(body.campaignId);
      if (!campaign) throw new ApiError(404, 'not_found', `campaign ${body.campaignId} not found`, 'campaignId');
      assertOwns(req.principal!, campaign.sellerAccountId);
      const r = await dialer.request({ ...body, to: normalizeE164(body.to)! });
      if (r.status === 'blocked') {
        res.status(422).json({ error: { code: 'call_blocked', message: `call not placed: ${r.result.reasons.join(', ') || r.result.reason}`, reasons: r.result.reasons.length ? r.result.reasons : [r.result.reason], callId: r.result.callId } });
        return;
      }
      void r.done; // settles by itself; its outcome is journaled like any call's
      res.status(202).json({ callId: r.callId, status: 'dialing' });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
