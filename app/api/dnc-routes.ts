/**
 * DNC lists over HTTP: add, check and remove one number, and bulk imports streamed from a CSV or plain-list body.
 * `global` and `registry` are the platform's lists (admins); `campaign:<id>` is a campaign's (admins and the
 * campaign's seller). Screening sees a change on the next call: writers update Postgres and the Redis copy.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../observability/logger';
import { normalizeE164 } from '../domain/phone';
import { addDncNumbers, redisKeyForList, removeDncNumber, type DncListId } from '../store/compliance-repo';
import { importDnc, readDncImport } from '../store/dnc-import';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cursorParam, queryInt, text } from './schemas';
import { decodeKeyCursor, DNC_ENTRY_COLUMNS, DncEntryResource, encodeKeyCursor, pageOf, selectList } from './resources';

// seller:<id>: a seller's internal DNC list (consent revocations add to it; the seller may remove a number it re-consented).
const ListId = z.string().regex(/^(global|registry|campaign:[A-Za-z0-9_-]{1,100}|seller:[A-Za-z0-9_-]{1,100})$/, 'must be global, registry, campaign:<id> or seller:<id>');
const Number = z.string().min(1).max(32).refine((v) => normalizeE164(v) !== undefined, 'must be a valid phone number, e.g. +18135551234');
const AddBody = z.object({ list: ListId, number: Number, source: text({ max: 200 }).default('api') }).strict();
const ListParams = z.object({ list: ListId, number: Number });
/** `id`: the client may name the import (a UUID) to follow its progress while it uploads. */
const ImportQuery = z.object({ list: ListId, source: text({ max: 200 }).default('import'), id: z.string().uuid('must be a UUID').optional() });
const ImportId = z.object({ id: z.string().uuid('is not an import id') });
const ListQuery = z.object({
  list: ListId,
  /** numbers starting with this (E.164 digits, e.g. +1813) */
  prefix: z.string().regex(/^\+[1-9]?\d{0,14}$/, 'must be the start of an E.164 number, e.g. +1813').optional(),
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();
const DNC_SELECT = selectList(DNC_ENTRY_COLUMNS, 'd');
const ImportState = z.object({
  id: z.string(), listId: z.string(), source: z.string(), status: z.enum(['running', 'done', 'failed']), lines: z.number().int(), accepted: z.number().int(),
  written: z.number().int(), rejected: z.number().int(), rejectedSamples: z.array(z.object({ line: z.number().int(), text: z.string(), reason: z.string() })), startedAt: z.string(),
}).loose();
const Listed = z.object({ list: z.string(), number: z.string(), listed: z.boolean() });
const Added = z.object({ list: z.string(), number: z.string() });

export const dncRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/dnc/imports', summary: 'Import a DNC list streamed as text/csv or text/plain; answers with a summary of rejected lines', roles: ['admin', 'seller'], query: ImportQuery, textBody: true, response: ImportState, successStatus: [201], errorStatus: [409, 500] },
  { method: 'get', path: '/v1/dnc/imports/:id', summary: 'An import\'s progress', roles: ['admin', 'seller'], params: ImportId, response: ImportState },
  { method: 'get', path: '/v1/dnc', summary: 'The numbers on a DNC list, by number, a page at a time (prefix: numbers starting with it)', roles: ['admin', 'agent', 'seller'], query: ListQuery, response: pageOf(DncEntryResource) },
  { method: 'post', path: '/v1/dnc', summary: 'Add a number to a DNC list', roles: ['admin', 'seller'], body: AddBody, response: Added, successStatus: [201] },
  { method: 'get', path: '/v1/dnc/:list/:number', summary: 'Is a number on a list', roles: ['admin', 'agent', 'seller'], params: ListParams, response: Listed },
  { method: 'delete', path: '/v1/dnc/:list/:number', summary: 'Remove a number from a list', roles: ['admin', 'seller'], params: ListParams, response: Listed },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

const redisKey = redisKeyForList;

export function dncRoutes(pool: Pool, redis: Redis, log: Logger): ExpressRouter {
  const router = ExpressRouter();

  /** Platform lists are the admins'; a campaign's list is also its seller's. */
  const mayWrite = async (req: Request, list: string): Promise<DncListId> => {
    const principal = req.principal!;
    if (list.startsWith('seller:')) {
      const { rows } = await pool.query("SELECT id FROM accounts WHERE id = $1 AND kind = 'seller'", [list.slice('seller:'.length)]);
      if (!rows[0]) throw new ApiError(404, 'not_found', 'no such seller', 'list');
      assertOwns(principal, rows[0].id);
      return list as DncListId;
    }
    if (!list.startsWith('campaign:')) {
      if (principal.role !== 'admin') throw new ApiError(403, 'forbidden', 'only admins change the platform lists', 'list');
      return list as DncListId;
    }
    const { rows } = await pool.query('SELECT seller_account_id FROM campaigns WHERE id = $1', [list.slice('campaign:'.length)]);
    if (!rows[0]) throw new ApiError(404, 'not_found', 'no such campaign', 'list');
    assertOwns(principal, rows[0].seller_account_id);
    return list as DncListId;
  };

  // Before the /v1/dnc/:list/:number routes, which would take 'imports' for a list.
  router.post('/v1/dnc/imports', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const q = parse(ImportQuery, req.query);
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim();
      if (type !== 'text/csv' && type !== 'text/plain') throw new ApiError(415, 'unsupported_media_type', 'send the list as text/csv or text/plain');
      const list = await mayWrite(req, q.list);
      if (q.id && (await readDncImport(redis, q.id))) throw new ApiError(409, 'conflict', 'an import with this id exists', 'id');
      const state = await importDnc({ pool, redis, log }, { listId: list, source: q.source, input: req, ...(q.id ? { id: q.id } : {}) });
      res.status(state.status === 'done' ? 201 : 500).json(state);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/dnc/imports/:id', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const { id } = parse(ImportId, req.params);
      const state = await readDncImport(redis, id);
      if (!state) throw new ApiError(404, 'not_found', 'no such import');
      if (req.principal!.role === 'seller') await mayWrite(req, state.listId);
      res.json(state);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/dnc', requireRole('admin', 'agent', 'seller'), async (req, res, next) => {
    try {
      const q = parse(ListQuery, req.query);
      // The registry copy is millions of numbers of the national list: look numbers up one at a time.
      if (q.list === 'registry') throw new ApiError(400, 'validation_failed', 'list: the registry is not listed; check a number with GET /v1/dnc/registry/{number}', 'list');
      if (req.principal!.role === 'seller') await mayWrite(req, q.list);
      const after = q.cursor === undefined ? null : decodeKeyCursor(q.cursor, /^\+[1-9]\d{6,14}$/);
      if (after === undefined) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
      const { rows } = await pool.query(
        `SELECT ${DNC_SELECT} FROM dnc_entries d WHERE d.list_id = $1 AND ($2::text IS NULL OR d.number LIKE $2) AND ($3::text IS NULL OR d.number > $3)
         ORDER BY d.number LIMIT $4`,
        [q.list, q.prefix ? `${q.prefix}%` : null, after, q.limit],
      );
      const last = rows[rows.length - 1] as { number: string } | undefined;
      res.json({ items: rows, nextCursor: rows.length === q.limit && last ? encodeKeyCursor(last.number) : null });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/dnc', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const b = parse(AddBody, req.body);
      const list = await mayWrite(req, b.list);
      const number = normalizeE164(b.number)!;
      await addDncNumbers(pool, redis, list, [number], b.source);
      res.status(201).json({ list, number });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/dnc/:list/:number', requireRole('admin', 'agent', 'seller'), async (req, res, next) => {
    try {
      const p = parse(ListParams, req.params);
      if (req.principal!.role === 'seller') await mayWrite(req, p.list);
      const number = normalizeE164(p.number)!;
      res.json({ list: p.list, number, listed: (await redis.sismember(redisKey(p.list as DncListId), number)) === 1 });
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/dnc/:list/:number', requireRole('admin', 'seller'), async (req, res, next) => {
    try {
      const p = parse(ListParams, req.params);
      const list = await mayWrite(req, p.list);
      const number = normalizeE164(p.number)!;
      await removeDncNumber(pool, redis, list, number);
      res.json({ list, number, listed: false });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
