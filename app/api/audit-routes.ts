/**
 * GET /v1/audit (admins): the trail of changes to money settings, newest first, a page at a time, optionally for
 * one kind of entity and one id. See app/store/audit-repo.ts for what is written and when.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { listAudit } from '../store/audit-repo';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import { decodeKeyCursor, encodeKeyCursor, pageOf } from './resources';
import { cursorParam } from './schemas';
import type { RouteDoc } from './openapi';

const AuditEntry = z.object({
  id: z.number().int(), at: z.string(), keyId: z.string().nullable(), role: z.string().nullable(), accountId: z.string().nullable(), entity: z.string(), entityId: z.string(),
  field: z.string(), oldValue: z.unknown(), newValue: z.unknown(),
});

const AuditQuery = z.object({
  entity: z.enum(['campaign', 'target', 'account', 'target_bids']).optional(),
  entityId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** the `nextCursor` of the previous page: rows older than it */
  cursor: cursorParam().optional(),
}).strict();

export const auditRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/audit', summary: 'Changes to money settings (who, when, field, old and new value), newest first', roles: ['admin'], query: AuditQuery, response: pageOf(AuditEntry) },
];

export function auditRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/audit', requireRole('admin'), async (req, res, next) => {
    try {
      const q = AuditQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const { cursor, ...rest } = q.data;
      const before = cursor === undefined ? undefined : decodeKeyCursor(cursor, /^[1-9]\d{0,15}$/);
      if (cursor !== undefined && before === undefined) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
      const rows = await listAudit(pool, { ...rest, ...(before ? { beforeId: Number(before) } : {}) });
      const last = rows[rows.length - 1];
      res.json({ items: rows, nextCursor: rows.length === q.data.limit && last ? encodeKeyCursor(last.id) : null });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
