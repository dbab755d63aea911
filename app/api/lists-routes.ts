/**
 * The purchased compliance lists over HTTP (issue 14, features 3-5), all the platform's (admins):
 *  - national DNC registry copies: a whole copy streamed as text/csv or text/plain, with its registry, its own date
 *    and the area codes it covers; it replaces the current copy of its registry once fully loaded;
 *  - Reassigned Numbers Database results: numbers with their last permanent disconnection date;
 *  - TCPA litigator and complainer lists: numbers streamed per source, with the list's date.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import { normalizeE164 } from '../domain/phone';
import { REGISTRY_KINDS } from '../domain/lists';
import { importRegistryCopy, listRegistryCopies, registryCopyAges } from '../store/registry-copies';
import { readDncImport, importDnc } from '../store/dnc-import';
import { addLitigators, litigatorEntries, recordRndResults, removeLitigator } from '../store/lists-repo';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { parseIsoDate, text } from './schemas';

const ImportSummary = z.object({ id: z.string(), status: z.string() }).loose();
const RegistryImport = z.object({ copy: z.object({ status: z.string() }).loose() }).loose();
const RegistryCopies = z.object({ current: z.record(z.string(), z.unknown()), copies: z.array(z.record(z.string(), z.unknown())) });
const RndRecorded = z.object({ received: z.number().int(), updated: z.number().int() });
const LitigatorEntries = z.object({ number: z.string(), listed: z.boolean(), entries: z.array(z.object({ source: z.string(), listedOn: z.string() })) });
const LitigatorLeft = z.object({ number: z.string(), listed: z.boolean(), sources: z.array(z.string()) });

const DAY_MS = 86_400_000;
/** A calendar date (YYYY-MM-DD) no later than tomorrow (UTC): lists are dated when issued, never ahead. */
const pastDate = () =>
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
    .refine((s) => parseIsoDate(s) !== undefined, 'is not a calendar date between 1970-01-01 and 9999-12-31')
    .refine((s) => Date.parse(`${s}T00:00:00Z`) <= Date.now() + DAY_MS, 'is in the future');
const Number = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const AreaCodes = z.string().max(4000).regex(/^[2-9]\d\d(,[2-9]\d\d)*$/, 'must be area codes separated by commas, e.g. 813,727')
  .transform((s) => [...new Set(s.split(','))].sort());

const RegistryQuery = z.object({
  kind: z.enum(REGISTRY_KINDS as ['us', 'ca']),
  registryDate: pastDate(),
  areaCodes: AreaCodes.optional(),
  source: text({ max: 200 }).default('registry'),
  id: z.string().uuid('must be a UUID').optional(),
}).strict();
const RndBody = z.object({
  source: text({ max: 200 }).default('rnd'),
  results: z.array(z.object({ number: Number, disconnectedOn: pastDate() }).strict()).min(1).max(10_000),
}).strict();
const LitigatorQuery = z.object({ source: text({ min: 1, max: 200 }), listedOn: pastDate(), id: z.string().uuid('must be a UUID').optional() }).strict();
const LitigatorParams = z.object({ number: Number });
const LitigatorDeleteQuery = z.object({ source: text({ min: 1, max: 200 }).optional() }).strict();

export const listsRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/dnc/registry-copies', summary: 'Import a national DNC registry copy (text/csv or text/plain); it replaces the current copy of its registry once loaded', roles: ['admin'], query: RegistryQuery, textBody: true, response: RegistryImport, successStatus: [201], errorStatus: [409, 500] },
  { method: 'get', path: '/v1/dnc/registry-copies', summary: 'Registry copies imported, newest first, and each registry\'s current copy\'s age', roles: ['admin'], response: RegistryCopies },
  { method: 'post', path: '/v1/rnd/results', summary: 'Record Reassigned Numbers Database results: each number\'s last permanent disconnection', roles: ['admin'], body: RndBody, response: RndRecorded, successStatus: [201] },
  { method: 'post', path: '/v1/litigators/imports', summary: 'Import a TCPA litigator or complainer list (text/csv or text/plain) from one source', roles: ['admin'], query: LitigatorQuery, textBody: true, response: ImportSummary, successStatus: [201], errorStatus: [409, 500] },
  { method: 'get', path: '/v1/litigators/:number', summary: 'The litigator lists that name a number', roles: ['admin'], params: LitigatorParams, response: LitigatorEntries },
  { method: 'delete', path: '/v1/litigators/:number', summary: 'Take a number off one source\'s litigator list (or all)', roles: ['admin'], params: LitigatorParams, query: LitigatorDeleteQuery, response: LitigatorLeft },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

function assertTextBody(req: Request): void {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim();
  if (type !== 'text/csv' && type !== 'text/plain') throw new ApiError(415, 'unsupported_media_type', 'send the list as text/csv or text/plain');
}

export function listsRoutes(pool: Pool, redis: Redis, log: Logger, registry: { maxAgeDays: number }): ExpressRouter {
  const router = ExpressRouter();

  router.post('/v1/dnc/registry-copies', requireRole('admin'), async (req, res, next) => {
    try {
      const q = parse(RegistryQuery, req.query);
      assertTextBody(req);
      if (q.id && (await readDncImport(redis, q.id))) throw new ApiError(409, 'conflict', 'an import with this id exists', 'id');
      const r = await importRegistryCopy({ pool, redis, log }, { kind: q.kind, registryDate: q.registryDate, areaCodes: q.areaCodes ?? [], source: q.source, input: req, ...(q.id ? { id: q.id } : {}) });
      res.status(r.copy.status === 'current' ? 201 : 500).json(r);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/dnc/registry-copies', requireRole('admin'), async (_req, res, next) => {
    try {
      res.json({ current: await registryCopyAges(redis, Date.now(), registry.maxAgeDays), copies: await listRegistryCopies(pool) });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/rnd/results', requireRole('admin'), async (req, res, next) => {
    try {
      const b = parse(RndBody, req.body);
      const results = b.results.map((r) => ({ number: normalizeE164(r.number)!, disconnectedOn: r.disconnectedOn }));
      const updated = await recordRndResults(pool, redis, results, b.source);
      res.status(201).json({ received: b.results.length, updated });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/litigators/imports', requireRole('admin'), async (req, res, next) => {
    try {
      const q = parse(LitigatorQuery, req.query);
      assertTextBody(req);
      if (q.id && (await readDncImport(redis, q.id))) throw new ApiError(409, 'conflict', 'an import with this id exists', 'id');
      const state = await importDnc({ pool, redis, log }, {
        listId: `litigators:${q.source}`,
        source: q.source,
        input: req,
        ...(q.id ? { id: q.id } : {}),
        write: async (numbers) => {
          await addLitigators(pool, redis, numbers, q.source, q.listedOn);
          return { hadDuplicates: false };
        },
      });
      res.status(state.status === 'done' ? 201 : 500).json(state);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/litigators/:number', requireRole('admin'), async (req, res, next) => {
    try {
      const number = normalizeE164(parse(LitigatorParams, req.params).number)!;
      const entries = await litigatorEntries(pool, number);
      res.json({ number, listed: entries.length > 0, entries });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/litigators/:number', requireRole('admin'), async (req, res, next) => {
    try {
      const number = normalizeE164(parse(LitigatorParams, req.params).number)!;
      const q = parse(LitigatorDeleteQuery, req.query);
      const left = await removeLitigator(pool, redis, number, q.source);
      res.json({ number, listed: left.length > 0, sources: left });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
