/**
 * Money over HTTP: balances, ledger entries, invoices (JSON or CSV), settlement runs, refunds and adjustments.
 * Admins act on any account; sellers and buyers read their own; only admins post money.
 */
import { Router as ExpressRouter, type Request } from 'express';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { accountBalance, closePeriod, invoiceLines, ledgerEntries, postTransaction, refundPostings } from '../store/ledger-repo';
import { publishFunds } from '../jobs/funds';
import { assertOwns, requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cents, cursorParam, decodeTimeCursor, encodeTimeCursor, isoDate, queryInt, spanMs, text } from './schemas';
import { BalanceResource, decodeKeyCursor, encodeKeyCursor, InvoiceResource, LedgerEntryResource, pageOf, selectList, SETTLEMENT_COLUMNS, SettlementResource } from './resources';

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,100}$/;
const BalancesQuery = z.object({
  kind: z.enum(['buyer', 'seller', 'platform']).optional(),
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();
const SETTLEMENT_SELECT = selectList(SETTLEMENT_COLUMNS, 's');

const AccountParam = z.object({ id: text({ max: 100 }) });
const Period = z
  .object({ from: isoDate(), to: isoDate() })
  .refine((p) => !(spanMs(p) <= 0), { message: 'must be after from', path: ['to'] });
const LedgerQuery = z.object({
  from: isoDate().default(() => new Date(0)),
  to: isoDate().default(() => new Date(Date.now() + 1000)),
  limit: queryInt(1, 1000).default(100),
  /** the previous page's nextCursor */
  cursor: cursorParam().optional(),
  // a ledger entry id (bigint): as far as a JS number counts exactly (the cursor's older form, still accepted)
  before: queryInt(1, Number.MAX_SAFE_INTEGER).optional(),
});
const SettlementsQuery = z.object({
  accountId: text({ max: 100 }).optional(),
  limit: queryInt(1, 1000).default(100),
  cursor: cursorParam().optional(),
}).strict();
const ENTRY_ID = /^[1-9]\d{0,15}$/;
const Refund = z.object({ transactionId: z.string(), posted: z.boolean(), postings: z.array(z.object({ accountId: z.string(), amountCents: z.number().int() })) });
const Adjustment = z.object({ transactionId: z.string(), posted: z.boolean() });
const InvoiceQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });
const SettlementBody = z.object({ accountId: text({ max: 100 }), from: isoDate(), to: isoDate() }).strict()
  .refine((p) => !(spanMs(p) <= 0), { message: 'must be after from', path: ['to'] });
const RefundBody = z.object({ callId: text({ max: 100 }), reason: text({ max: 500 }) }).strict();
const AdjustmentBody = z
  .object({
    idempotencyKey: text({ min: 8, max: 200 }),
    memo: text({ max: 500 }),
    postings: z.array(z.object({ accountId: text({ max: 100 }), amountCents: cents({ signed: true }).refine((n) => n !== 0, 'must not be 0') }).strict()).min(2).max(20),
  })
  .strict()
  .refine((b) => b.postings.reduce((s, p) => s + p.amountCents, 0) === 0, { message: 'postings must sum to 0', path: ['postings'] });

export const moneyRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/accounts/:id/balance', summary: 'Balance, credit limit and available funds', roles: ['admin', 'seller', 'buyer'], params: AccountParam, response: BalanceResource },
  { method: 'get', path: '/v1/balances', summary: 'Balances of the accounts, by account id, a page at a time (sellers and buyers: their own)', roles: ['admin', 'agent', 'seller', 'buyer'], query: BalancesQuery, response: pageOf(BalanceResource) },
  { method: 'get', path: '/v1/accounts/:id/ledger', summary: 'Ledger entries, newest first, a page at a time', roles: ['admin', 'seller', 'buyer'], params: AccountParam, query: LedgerQuery, response: pageOf(LedgerEntryResource) },
  { method: 'get', path: '/v1/accounts/:id/invoice', summary: 'Totals by campaign and kind for a period, as JSON or CSV', roles: ['admin', 'seller', 'buyer'], params: AccountParam, query: z.intersection(Period, InvoiceQuery), response: InvoiceResource, csv: true },
  { method: 'get', path: '/v1/settlements', summary: 'Closed periods, newest first, a page at a time (sellers and buyers: their own)', roles: ['admin', 'agent', 'seller', 'buyer'], query: SettlementsQuery, response: pageOf(SettlementResource) },
  { method: 'post', path: '/v1/settlements', summary: 'Close an account\'s period once (a repeat returns the same record)', roles: ['admin'], body: SettlementBody, response: SettlementResource, successStatus: [201, 200], errorStatus: [409] },
  { method: 'post', path: '/v1/refunds', summary: 'Reverse a billed call, once', roles: ['admin'], body: RefundBody, response: Refund, successStatus: [201, 200] },
  { method: 'post', path: '/v1/adjustments', summary: 'A balanced posting (top-up, correction), once per idempotency key', roles: ['admin'], body: AdjustmentBody, response: Adjustment, successStatus: [201, 200], errorStatus: [422] },
];

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

const csvCell = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function moneyRoutes(pool: Pool, redis: Redis, redisPrefix: string): ExpressRouter {
  const router = ExpressRouter();
  const owned = (req: Request): string => {
    const { id } = parse(AccountParam, req.params);
    assertOwns(req.principal!, id);
    return id;
  };

  router.get('/v1/accounts/:id/balance', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const balance = await accountBalance(pool, owned(req));
      if (!balance) throw new ApiError(404, 'not_found', 'account not found');
      res.json(balance);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/accounts/:id/ledger', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const id = owned(req);
      const { cursor, ...q } = parse(LedgerQuery, req.query);
      let before = q.before;
      if (cursor !== undefined) {
        const key = decodeKeyCursor(cursor, ENTRY_ID);
        if (!key) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
        before = Number(key);
      }
      const entries = await ledgerEntries(pool, id, { ...q, ...(before !== undefined ? { before } : {}) });
      res.json({ items: entries, nextCursor: entries.length === q.limit ? encodeKeyCursor(entries[entries.length - 1]!.id) : null });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/accounts/:id/invoice', requireRole('admin', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const id = owned(req);
      const period = parse(Period, req.query);
      const { format } = parse(InvoiceQuery, { format: req.query.format });
      const lines = await invoiceLines(pool, id, period.from, period.to);
      const totalCents = lines.reduce((s, l) => s + l.totalCents, 0);
      if (format === 'csv') {
        const body = ['campaign_id,kind,transactions,total_cents', ...lines.map((l) => [l.campaignId, l.kind, l.transactions, l.totalCents].map(csvCell).join(',')), `TOTAL,,,${totalCents}`].join('\n');
        res.type('text/csv').attachment(`invoice-${id}-${period.from.toISOString().slice(0, 10)}.csv`).send(`${body}\n`);
        return;
      }
      res.json({ accountId: id, from: period.from, to: period.to, lines, totalCents });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/balances', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = parse(BalancesQuery, req.query);
      const p = req.principal!;
      const own = p.role === 'admin' || p.role === 'agent' ? null : p.accountId!;
      const after = q.cursor === undefined ? null : decodeKeyCursor(q.cursor, ACCOUNT_ID);
      if (after === undefined) throw new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');
      const { rows } = await pool.query(
        `SELECT id AS "accountId", kind, balance_cents::float8 AS "balanceCents", credit_limit_cents::float8 AS "creditLimitCents",
           (balance_cents + credit_limit_cents)::float8 AS "availableCents"
         FROM accounts WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [own, q.kind ?? null, after, q.limit],
      );
      const last = rows[rows.length - 1] as { accountId: string } | undefined;
      res.json({ items: rows, nextCursor: rows.length === q.limit && last ? encodeKeyCursor(last.accountId) : null });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/settlements', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = parse(SettlementsQuery, req.query);
      const p = req.principal!;
      if (q.accountId !== undefined && p.role !== 'agent') assertOwns(p, q.accountId);
      const account = p.role === 'admin' || p.role === 'agent' ? q.accountId ?? null : p.accountId!;
      const after = q.cursor === undefined ? null : decodeTimeCursor(q.cursor, ACCOUNT_ID);
      const { rows } = await pool.query(
        `SELECT ${SETTLEMENT_SELECT} FROM settlements s
         WHERE ($1::text IS NULL OR s.account_id = $1) AND ($2::timestamptz IS NULL OR (s.period_start, s.account_id) < ($2, $3::text))
         ORDER BY s.period_start DESC, s.account_id DESC LIMIT $4`,
        [account, after?.[0] ?? null, after?.[1] ?? null, q.limit],
      );
      const last = rows[rows.length - 1] as { from: Date; accountId: string } | undefined;
      res.json({ items: rows, nextCursor: rows.length === q.limit && last ? encodeTimeCursor(last.from.toISOString(), last.accountId) : null });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/settlements', requireRole('admin'), async (req, res, next) => {
    try {
      const b = parse(SettlementBody, req.body);
      if (!(await accountBalance(pool, b.accountId))) throw new ApiError(404, 'not_found', `account ${b.accountId} not found`, 'accountId');
      const r = await closePeriod(pool, b.accountId, b.from, b.to).catch((err: Error & { code?: string }) => {
        if (err.code === 'period_overlap') throw new ApiError(409, 'period_overlap', err.message, 'from');
        throw err;
      });
      res.status(r.created ? 201 : 200).json({ accountId: b.accountId, from: b.from, to: b.to, ...r });
    } catch (err) {
      next(err);
    }
  });

  /** Posts a transaction an admin asked for; each account's balance change goes to the audit trail with it. */
  const post = async (req: Request, t: Parameters<typeof postTransaction>[1]) => {
    const r = await postTransaction(pool, t, req.principal).catch((err: Error & { code?: string }) => {
      if (err.code === '23503') throw new ApiError(422, 'unknown_account', 'a posting names an account that does not exist', 'postings');
      throw err;
    });
    await publishFunds(redis, redisPrefix, r.funds);
    return r;
  };

  router.post('/v1/refunds', requireRole('admin'), async (req, res, next) => {
    try {
      const b = parse(RefundBody, req.body);
      const reversal = await refundPostings(pool, b.callId);
      if (!reversal) throw new ApiError(404, 'not_found', 'no charge for this call to refund', 'callId');
      const r = await post(req, { idempotencyKey: `${b.callId}:refund`, kind: 'refund', callId: b.callId, campaignId: reversal.campaignId ?? undefined, memo: b.reason, postings: reversal.postings });
      res.status(r.posted ? 201 : 200).json({ transactionId: r.transactionId, posted: r.posted, postings: reversal.postings });
    } catch (err) {
      next(err);
    }
  });

  router.post('/v1/adjustments', requireRole('admin'), async (req, res, next) => {
    try {
      const b = parse(AdjustmentBody, req.body);
      const r = await post(req, { idempotencyKey: `adj:${b.idempotencyKey}`, kind: 'adjustment', memo: b.memo, postings: b.postings });
      res.status(r.posted ? 201 : 200).json({ transactionId: r.transactionId, posted: r.posted });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
