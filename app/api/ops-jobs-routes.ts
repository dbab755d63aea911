/**
 * Operators' view of the background work: jobs that failed for good (the dead letters) and retrying them, and
 * the caller block list: read it, block a caller by hand, lift a block. Admins only; agents may read.
 */
import { Router as ExpressRouter } from 'express';
import type { Queue } from 'bullmq';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { blockByOperator, liftBlock, listBlocks } from '../store/fraud-repo';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';

const QueueParam = z.object({ queue: z.enum(['billing', 'fraud']) });
const JobParams = QueueParam.extend({ id: z.string().min(1).max(200) });
const PhoneNumber = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const NumberParam = z.object({ number: PhoneNumber });
const BlockBody = z.object({ number: PhoneNumber, reason: z.string().trim().min(1).max(500) }).strict();

export const opsJobsRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/jobs/:queue/failed', summary: 'Jobs that failed for good (dead letters)', roles: ['admin', 'agent'], params: QueueParam },
  { method: 'post', path: '/v1/jobs/:queue/:id/retry', summary: 'Retry a failed job', roles: ['admin'], params: JobParams },
  { method: 'get', path: '/v1/fraud/blocks', summary: 'The caller block list', roles: ['admin', 'agent'] },
  { method: 'post', path: '/v1/fraud/blocks', summary: 'Block a caller by hand (audited); screening refuses it from the next call', roles: ['admin'], body: BlockBody },
  { method: 'delete', path: '/v1/fraud/blocks/:number', summary: 'Lift a block (audited)', roles: ['admin'], params: NumberParam },
];

export function opsJobsRoutes(pool: Pool, redis: Redis, queues: { billing: Queue; fraud: Queue } | undefined): ExpressRouter {
  const router = ExpressRouter();
  const queueOf = (name: 'billing' | 'fraud'): Queue => {
    if (!queues) throw new ApiError(503, 'jobs_unavailable', 'this node runs no job queues (RECORDER_ENABLED=false)');
    return queues[name];
  };

  router.get('/v1/jobs/:queue/failed', requireRole('admin', 'agent'), async (req, res, next) => {
    try {
      const p = QueueParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const jobs = await queueOf(p.data.queue).getFailed(0, 199);
      res.json({
        queue: p.data.queue,
        failed: jobs.map((j) => ({ id: j.id, data: j.data, attempts: j.attemptsMade, reason: j.failedReason, failedAt: j.finishedOn ? new Date(j.finishedOn) : null })),
      });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/jobs/:queue/:id/retry', requireRole('admin'), async (req, res, next) => {
    try {
      const p = JobParams.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const job = await queueOf(p.data.queue).getJob(p.data.id);
      if (!job || !(await job.isFailed())) throw new ApiError(404, 'not_found', 'no failed job with this id');
      await job.retry('failed');
      res.status(202).json({ id: job.id, status: 'retrying' });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/fraud/blocks', requireRole('admin', 'agent'), async (_req, res, next) => {
    try {
      res.json({ blocks: await listBlocks(pool) });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/fraud/blocks', requireRole('admin'), async (req, res, next) => {
    try {
      const b = BlockBody.safeParse(req.body);
      if (!b.success) throw fromZod(b.error);
      const number = normalizeE164(b.data.number)!;
      await blockByOperator(pool, redis, number, b.data.reason, req.principal!.keyId);
      res.status(201).json({ number, reason: b.data.reason, status: 'blocked' });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/fraud/blocks/:number', requireRole('admin'), async (req, res, next) => {
    try {
      const p = NumberParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const number = normalizeE164(p.data.number)!;
      if (!(await liftBlock(pool, redis, number, req.principal!.keyId))) throw new ApiError(404, 'not_found', `${number} is not blocked`, 'number');
      res.json({ number, status: 'lifted' });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
