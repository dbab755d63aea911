/**
 * Tracking numbers paused by fraud, over HTTP: list them, and resume one. The fraud worker pauses a seller's
 * number when its traffic turns anomalous (app/jobs/fraud-worker.ts); an admin who has looked into it resumes the
 * number, with a reason. The resume is audited in fraud_actions like the pause (who, when, why), and a config
 * change is published so every node routes the number again from its next snapshot (within moments).
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { publishConfigChanged } from '../exchange/snapshot-source';
import { listPausedNumbers, resumeNumber } from '../store/fraud-repo';
import type { Logger } from '../observability/logger';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { pageOf } from './resources';

const PausedNumber = z.object({ did: z.string(), campaignId: z.string(), sellerAccountId: z.string(), callId: z.string().nullable(), reasons: z.unknown(), pausedAt: z.string() });
const Resumed = z.object({ did: z.string(), status: z.literal('resumed'), reason: z.string() });

const DidParam = z.object({ did: z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18885550100') });
const ResumeBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

export const pausedNumberRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/fraud/paused-numbers', summary: 'Tracking numbers paused by fraud and not resumed, most recent first', roles: ['admin', 'agent'], query: ListQuery, response: pageOf(PausedNumber) },
  { method: 'post', path: '/v1/fraud/paused-numbers/:did/resume', summary: 'Resume a tracking number paused by fraud (audited with the reason); every node routes it again', roles: ['admin'], params: DidParam, body: ResumeBody, response: Resumed },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

export function pausedNumberRoutes(pool: Pool, redis: Redis, redisPrefix: string, log: Logger): ExpressRouter {
  const router = ExpressRouter();

  router.get('/v1/fraud/paused-numbers', requireRole('admin', 'agent'), async (req, res, next) => {
    try {
      const q = parse(ListQuery, req.query);
      // The most recent `limit` (a bounded list: numbers paused and not resumed), so never a next page.
      res.json({ items: await listPausedNumbers(pool, q.limit), nextCursor: null });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/fraud/paused-numbers/:did/resume', requireRole('admin'), async (req, res, next) => {
    try {
      const did = normalizeE164(parse(DidParam, req.params).did)!;
      const { reason } = parse(ResumeBody, req.body);
      const actor = req.principal!.keyId;
      if (!(await resumeNumber(pool, did, actor, reason))) throw new ApiError(404, 'not_found', `${did} is not paused by fraud`, 'did');
      // Committed: a failed publish must not answer an error for a resume that happened; the nodes' periodic
      // reload picks it up then.
      await publishConfigChanged(redis, redisPrefix, `fraud resumed ${did}`).catch((err: Error) =>
        log.error({ err: err.message, did, actor }, 'tracking number resumed but the config change was not published; nodes route it at their next reload'),
      );
      log.info({ did, actor, reason }, 'tracking number resumed after a fraud pause');
      res.json({ did, status: 'resumed', reason });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
