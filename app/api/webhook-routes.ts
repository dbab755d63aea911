/**
 * Webhooks over HTTP: an account's endpoints and subscriptions, its signing secret (shown once, when created or
 * rotated), and its deliveries (status, attempts, last error; `status=dead` is the dead-letter list) with a
 * redeliver action for a dead one. A seller or buyer manages only its own; admins any account's; agents read.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { ApiPrincipal } from '../store/api-keys';
import {
  createEndpoint, createSecretIfMissing, getDelivery, getEndpoint, listDeliveries, listEndpoints, reopenDeadDelivery, rotateSecret,
  secretInfo, updateEndpoint, WEBHOOK_EVENTS,
} from '../store/webhook-repo';
import { enqueueDeliveries, type WebhookRetry } from '../jobs/queues';
import type { SecretBox } from '../util/secret-box';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { decodeKeyCursor, encodeKeyCursor, pageOf } from './resources';
import { cursorParam, isStorableText, queryInt } from './schemas';
import { NOT_STORABLE } from '../domain/text';

const AccountId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');
const EndpointId = z.string().regex(/^whe_[0-9a-f]{16}$/, 'is not a webhook endpoint id');
const DeliveryId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'is not a delivery id');
/**
 * Where deliveries go: an absolute http or https URL (no other scheme is ever fetched), stored as the URL parser
 * writes it (`HTTP://Example.com` becomes `http://example.com/`, odd characters percent-encoded).
 */
const Url = z.string().max(2000).refine(isStorableText, NOT_STORABLE).refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'must be an absolute http:// or https:// URL').transform((v) => new URL(v).href);
const Events = z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length * 2);

const EndpointBody = z.object({ accountId: AccountId.optional(), url: Url, events: Events }).strict();
const EndpointPatch = z.object({ url: Url, events: Events, active: z.boolean() }).partial().strict();
const EndpointParam = z.object({ id: EndpointId });
const AccountParam = z.object({ id: AccountId });
const DeliveryParam = z.object({ id: DeliveryId });
/** How long the old secret keeps signing beside the new one (at most a week; 0 or left out: it stops at once). */
const RotateBody = z.object({ keepPreviousSeconds: z.number().int().min(0).max(7 * 86_400) }).partial().strict();
const EndpointQuery = z.object({ accountId: AccountId.optional(), limit: queryInt(1, 1000).default(100), cursor: cursorParam().optional() }).strict();
const DeliveryQuery = z.object({
  accountId: AccountId.optional(),
  status: z.enum(['pending', 'delivered', 'retrying', 'dead']).optional(),
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();

// ---- response schemas (the resources these routes answer with; /openapi.json publishes them) -------------------

const Timestamp = z.string().meta({ format: 'date-time' });

export const WebhookEndpointResource = z.object({
  id: z.string(),
  accountId: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  active: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'WebhookEndpoint' });

/** An endpoint as created: the account's signing secret too when this created it (shown only here). */
const CreatedWebhookEndpointResource = WebhookEndpointResource.extend({ secret: z.string().optional() }).meta({ id: 'CreatedWebhookEndpoint' });

/** What is known of an account's signing secret, never the secret itself. */
export const WebhookSecretResource = z.object({
  accountId: z.string(),
  hint: z.string(),
  createdAt: Timestamp,
  rotatedAt: Timestamp.nullable(),
  previousValidUntil: Timestamp.nullable().meta({ description: 'until when the previous secret also signs deliveries' }),
}).meta({ id: 'WebhookSecret' });

/** A new or rotated secret: the secret in clear, shown only in this answer. */
const RotatedWebhookSecretResource = WebhookSecretResource.extend({ secret: z.string() }).meta({ id: 'RotatedWebhookSecret' });

export const WebhookDeliveryResource = z.object({
  id: z.string().meta({ description: 'a decimal number, as text' }),
  eventId: z.string(),
  eventType: z.enum(WEBHOOK_EVENTS),
  callId: z.string(),
  accountId: z.string(),
  endpointId: z.string(),
  url: z.string(),
  status: z.enum(['pending', 'delivered', 'retrying', 'dead']),
  attempts: z.number().int(),
  lastHttpStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: Timestamp.nullable(),
  deliveredAt: Timestamp.nullable(),
  createdAt: Timestamp,
}).meta({ id: 'WebhookDelivery' });

/** One delivery with the JSON it sends (`payload`: the event as the receiving account may see it). */
const WebhookDeliveryDetailResource = WebhookDeliveryResource.extend({ payload: z.unknown() }).meta({ id: 'WebhookDeliveryDetail' });

const Redelivery = z.object({ id: z.string(), status: z.literal('pending') });

export const webhookRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/v1/webhooks/endpoints', summary: 'Add a webhook endpoint (url, events); the account\'s signing secret is in the answer when this creates it', roles: ['admin', 'seller', 'buyer'], body: EndpointBody, response: CreatedWebhookEndpointResource, successStatus: [201] },
  { method: 'get', path: '/v1/webhooks/endpoints', summary: 'Webhook endpoints, by id, a page at a time', roles: ['admin', 'agent', 'seller', 'buyer'], query: EndpointQuery, response: pageOf(WebhookEndpointResource) },
  { method: 'get', path: '/v1/webhooks/endpoints/:id', summary: 'One webhook endpoint', roles: ['admin', 'agent', 'seller', 'buyer'], params: EndpointParam, response: WebhookEndpointResource },
  { method: 'patch', path: '/v1/webhooks/endpoints/:id', summary: 'Change an endpoint\'s url, events or active', roles: ['admin', 'seller', 'buyer'], params: EndpointParam, body: EndpointPatch, response: WebhookEndpointResource },
  { method: 'delete', path: '/v1/webhooks/endpoints/:id', summary: 'Deactivate an endpoint (no new deliveries to it)', roles: ['admin', 'seller', 'buyer'], params: EndpointParam, response: WebhookEndpointResource },
  { method: 'post', path: '/v1/accounts/:id/webhook-secret', summary: 'Create or rotate the account\'s webhook signing secret (shown only in this answer); keepPreviousSeconds: the old one also signs until then', roles: ['admin', 'seller', 'buyer'], params: AccountParam, body: RotateBody, response: RotatedWebhookSecretResource, successStatus: [201] },
  { method: 'get', path: '/v1/accounts/:id/webhook-secret', summary: 'Whether the account has a webhook secret, its hint and dates (never the secret)', roles: ['admin', 'agent', 'seller', 'buyer'], params: AccountParam, response: WebhookSecretResource },
  { method: 'get', path: '/v1/webhooks/deliveries', summary: 'Webhook deliveries, newest first, with status, attempts and last error (status=dead: the dead letters)', roles: ['admin', 'agent', 'seller', 'buyer'], query: DeliveryQuery, response: pageOf(WebhookDeliveryResource) },
  { method: 'get', path: '/v1/webhooks/deliveries/:id', summary: 'One delivery, with the payload sent', roles: ['admin', 'agent', 'seller', 'buyer'], params: DeliveryParam, response: WebhookDeliveryDetailResource },
  { method: 'post', path: '/v1/webhooks/deliveries/:id/redeliver', summary: 'Send a dead delivery again (a new round of attempts)', roles: ['admin', 'seller', 'buyer'], params: DeliveryParam, response: Redelivery, successStatus: [202], errorStatus: [409, 503] },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

function decodeCursor(cursor: string, shape: RegExp): string {
  const key = decodeKeyCursor(cursor, shape);
  if (key === undefined) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
  return key;
}

/** The account a list is about: an operator's filter (or all), a seller's or buyer's own (another's answers 404). */
function listedAccount(p: ApiPrincipal, asked: string | undefined): string | undefined {
  if (p.role === 'admin' || p.role === 'agent') return asked;
  if (asked !== undefined) assertOwns(p, asked);
  return p.accountId;
}

export interface WebhookRouteDeps {
  pool: Pool;
  box: SecretBox;
  retry: WebhookRetry;
  /** for redeliveries; undefined on a node that runs no job queues */
  queue?: Queue;
}

export function webhookRoutes(deps: WebhookRouteDeps): ExpressRouter {
  const { pool, box } = deps;
  const router = ExpressRouter();
  const principal = (req: Request): ApiPrincipal => req.principal!;

  /** A seller or buyer account the key may manage webhooks for (404 otherwise). */
  async function managedAccount(p: ApiPrincipal, accountId: string): Promise<void> {
    assertOwns(p, accountId);
    const { rows } = await pool.query<{ kind: string }>('SELECT kind FROM accounts WHERE id = $1', [accountId]);
    if (!rows[0] || (rows[0].kind !== 'buyer' && rows[0].kind !== 'seller')) throw new ApiError(404, 'not_found', 'no such seller or buyer account', 'accountId');
  }

  async function ownedEndpoint(req: Request) {
    const { id } = parse(EndpointParam, req.params);
    const e = await getEndpoint(pool, id);
    if (!e) throw new ApiError(404, 'not_found', 'no such webhook endpoint');
    if (principal(req).role !== 'agent') assertOwns(principal(req), e.accountId);
    return e;
  }

  async function ownedDelivery(req: Request) {
    const { id } = parse(DeliveryParam, req.params);
    const d = await getDelivery(pool, id);
    if (!d) throw new ApiError(404, 'not_found', 'no such delivery');
    if (principal(req).role !== 'agent') assertOwns(principal(req), d.accountId);
    return d;
  }

  /** The endpoint as changed (a 404, not an empty body, when it went away between the read and the write). */
  async function updated<T>(change: Promise<T | undefined>): Promise<T> {
    const e = await change;
    if (!e) throw new ApiError(404, 'not_found', 'no such webhook endpoint');
    return e;
  }

  router.post('/v1/webhooks/endpoints', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const b = parse(EndpointBody, req.body);
      const p = principal(req);
      const accountId = b.accountId ?? p.accountId;
      if (!accountId) throw new ApiError(400, 'validation_failed', 'accountId: an admin names the account', 'accountId');
      await managedAccount(p, accountId);
      const endpoint = await createEndpoint(pool, { accountId, url: b.url, events: b.events });
      const secret = await createSecretIfMissing(pool, box, accountId);
      res.status(201).json({ ...endpoint, ...(secret ? { secret } : {}) });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/webhooks/endpoints', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = parse(EndpointQuery, req.query);
      const endpoints = await listEndpoints(pool, { accountId: listedAccount(principal(req), q.accountId), limit: q.limit, ...(q.cursor ? { afterId: decodeCursor(q.cursor, /^whe_[0-9a-f]{16}$/) } : {}) });
      const last = endpoints[endpoints.length - 1];
      res.json({ items: endpoints, nextCursor: endpoints.length === q.limit && last ? encodeKeyCursor(last.id) : null });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/webhooks/endpoints/:id', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      res.json(await ownedEndpoint(req));
    } catch (err) {
      next(err);
    }
  });

  router.patch('/v1/webhooks/endpoints/:id', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const e = await ownedEndpoint(req);
      const b = parse(EndpointPatch, req.body);
      res.json(await updated(updateEndpoint(pool, e.id, b)));
    } catch (err) {
      next(err);
    }
  });

  router.delete('/v1/webhooks/endpoints/:id', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const e = await ownedEndpoint(req);
      res.json(await updated(updateEndpoint(pool, e.id, { active: false })));
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/accounts/:id/webhook-secret', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const { id } = parse(AccountParam, req.params);
      await managedAccount(principal(req), id);
      const b = parse(RotateBody, req.body);
      res.status(201).json({ accountId: id, ...(await rotateSecret(pool, box, id, b.keepPreviousSeconds ?? 0)) });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/accounts/:id/webhook-secret', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const { id } = parse(AccountParam, req.params);
      if (principal(req).role !== 'agent') assertOwns(principal(req), id);
      const info = await secretInfo(pool, id);
      if (!info) throw new ApiError(404, 'not_found', 'this account has no webhook secret yet');
      res.json({ accountId: id, ...info });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/webhooks/deliveries', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = parse(DeliveryQuery, req.query);
      const deliveries = await listDeliveries(pool, {
        accountId: listedAccount(principal(req), q.accountId),
        ...(q.status ? { status: q.status } : {}),
        limit: q.limit,
        ...(q.cursor ? { beforeId: decodeCursor(q.cursor, /^[1-9][0-9]{0,17}$/) } : {}),
      });
      const last = deliveries[deliveries.length - 1];
      res.json({ items: deliveries, nextCursor: deliveries.length === q.limit && last ? encodeKeyCursor(last.id) : null });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/webhooks/deliveries/:id', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const { body, ...d } = await ownedDelivery(req);
      res.json({ ...d, payload: JSON.parse(body) as unknown });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/webhooks/deliveries/:id/redeliver', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const d = await ownedDelivery(req);
      if (!deps.queue) throw new ApiError(503, 'jobs_unavailable', 'this node runs no job queues (RECORDER_ENABLED=false)');
      const reopened = await reopenDeadDelivery(pool, d.id);
      if (!reopened) throw new ApiError(409, 'not_dead', `delivery ${d.id} is ${d.status}: only a dead delivery is redelivered`);
      await enqueueDeliveries(deps.queue, [d.id], deps.retry, reopened.attempts);
      res.status(202).json({ id: d.id, status: 'pending' });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
