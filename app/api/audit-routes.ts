/**
 * GET /v1/audit (admins): the trail of changes to money settings, newest first, a page at a time, optionally for
 * one kind of entity and one id. See app/store/audit-repo.ts for what is written and when.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { listAudit } from '../store/audit-repo';
import { requireRole } from './auth';
import { fromZod } from './errors';
import type { RouteDoc } from './openapi';

const AuditQuery = z.object({
  entity: z.enum(['campaign', 'target', 'account', 'target_bids']).optional(),
  entityId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** the `next` of the previous page: rows older than it */
  cursor: z.string().regex(/^[1-9]\d{0,17}$/, 'is not a cursor this API returned').optional(),
}).strict();

export const auditRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/audit', summary: 'Changes to money settings (who, when, field, old and new value), newest first', roles: ['admin'], query: AuditQuery },
];

export function auditRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/audit', requireRole('admin'), async (req, res, next) => {
    try {
      const q = AuditQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const { cursor, ...rest } = q.data;
      const rows = await listAudit(pool, { ...rest, ...(cursor ? { beforeId: Number(cursor) } : {}) });
      const last = rows[rows.length - 1];
      res.json({ entries: rows, next: rows.length === q.data.limit && last ? String(last.id) : null });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
