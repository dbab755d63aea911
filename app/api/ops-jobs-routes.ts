/**
 * Operators' view of the background work: jobs that failed for good (the dead letters) and retrying them, and the
 * ended calls not billed yet (the billing sweep's backlog).
 * Admins only; agents may read. (The caller block list is in block-routes.ts.)
 */
import { Router as ExpressRouter } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { text } from './schemas';
import type { BillingBacklog } from '../jobs/billing-sweep';

const FailedJobs = z.object({ queue: z.string(), failed: z.array(z.object({ id: z.string().optional(), data: z.unknown(), attempts: z.number().int(), reason: z.string().optional(), failedAt: z.string().nullable() })) });
const Retrying = z.object({ id: z.string().optional(), status: z.literal('retrying') });

const Backlog = z.object({ unbilled: z.number().int(), oldestEndedAt: z.string().nullable(), sweptAt: z.string().nullable() });

const QueueParam = z.object({ queue: z.enum(['billing', 'fraud']) });
const JobParams = QueueParam.extend({ id: text({ max: 200 }) });

export const opsJobsRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/jobs/billing/backlog', summary: 'Ended calls past the grace age not billed yet, as the last billing sweep found them', roles: ['admin', 'agent'], response: Backlog },
  { method: 'get', path: '/v1/jobs/:queue/failed', summary: 'Jobs that failed for good (dead letters)', roles: ['admin', 'agent'], params: QueueParam, response: FailedJobs, errorStatus: [503] },
  { method: 'post', path: '/v1/jobs/:queue/:id/retry', summary: 'Retry a failed job', roles: ['admin'], params: JobParams, response: Retrying, successStatus: [202], errorStatus: [503] },
];

export function opsJobsRoutes(queues: { billing: Queue; fraud: Queue } | undefined, billingBacklog: () => Promise<BillingBacklog>): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/jobs/billing/backlog', requireRole('admin', 'agent'), async (_req, res, next) => {
    try {
      const b = await billingBacklog();
      res.json({ unbilled: b.unbilled, oldestEndedAt: b.oldestEndedAt?.toISOString() ?? null, sweptAt: b.sweptAt?.toISOString() ?? null });
    } catch (err) {
      next(err);
    }
  });

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

  return router;
}
