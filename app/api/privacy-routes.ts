/**
 * GDPR over HTTP (admins): export everything held about a phone number, and erase it (see
 * app/store/privacy-repo.ts for what erasure changes and what it keeps).
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { normalizeE164 } from '../domain/phone';
import { erasedToken, eraseNumber, exportNumber } from '../store/privacy-repo';
import { requireRole } from './auth';
import { fromZod, maskDigits } from './errors';
import type { RouteDoc } from './openapi';
import { text } from './schemas';
import { camelCaseRecords } from './resources';

const Export = z.object({ number: z.string(), exportedAt: z.string() }).catchall(z.array(z.record(z.string(), z.unknown())));
const Erased = z.object({ erased: z.literal(true), counts: z.record(z.string(), z.number().int()), kept: z.string() });

const NumberParam = z.object({ number: z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234') });
const EraseBody = z.object({ reason: text({ min: 3, max: 500 }) }).strict();

export const privacyRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/privacy/numbers/:number', summary: 'Export everything held about a phone number', roles: ['admin'], params: NumberParam, response: Export },
  { method: 'post', path: '/v1/privacy/numbers/:number/erase', summary: 'Erase a phone number (hashed in records, consent deleted; suppression lists kept)', roles: ['admin'], params: NumberParam, body: EraseBody, response: Erased },
];

export function privacyRoutes(pool: Pool, redis: Redis): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/privacy/numbers/:number', requireRole('admin'), async (req, res, next) => {
    try {
      const p = NumberParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      res.json(camelCaseRecords(await exportNumber(pool, normalizeE164(p.data.number)!)));
    } catch (err) {
      next(err);
    }
  });
  router.post('/v1/privacy/numbers/:number/erase', requireRole('admin'), async (req, res, next) => {
    try {
      const p = NumberParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const b = EraseBody.safeParse(req.body);
      if (!b.success) throw fromZod(b.error);
      const number = normalizeE164(p.data.number)!;
      const counts = await eraseNumber(pool, redis, number, b.data.reason, req.principal!.keyId).catch((err: Error) => {
        // The failure is logged by the error handler: name the number by its erasure hash only, never in clear.
        throw new Error(`erasing ${erasedToken(number)} failed: ${maskDigits(err.message.split(number).join('<number>'))}`);
      });
      res.json({ erased: true, counts, kept: 'DNC and block list entries stay, so the number is not called again' });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
