/**
 * Calls over HTTP: a filtered, cursor-paginated list, and one call with everything held about it. Admins and
 * agents see every call; a seller sees its campaigns' calls, a buyer the calls offered to it (rung or won). What
 * each sees of them is the role projection (projections.ts): the decision trace (every buyer's bid) is for
 * admins and agents only, a buyer sees the winner and price only of calls it won, a seller no buyer side unless
 * its account may see buyer details.
 *
 * Both answer with resources (app/api/resources.ts): the SQL selects each column under its field name, so a row
 * is the resource and goes out with one JSON.stringify. The list's query builder (callsQuery) is exported for the
 * console's CSV export, so a search and its export can never disagree.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool, QueryConfig } from 'pg';
import { z } from 'zod';
import type { ApiPrincipal } from '../store/api-keys';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cursorParam, decodeTimeCursor, encodeTimeCursor, isoDate, isStorableText, queryInt, text } from './schemas';
import { preparedJsonQuery } from '../store/pg-rows';
import { isOperator, projectAttempts, projectBilling, projectCallRow, projectPostings, type AttemptRow, type BillingRow, type PostingRow, type Viewer } from './projections';
import { ATTEMPT_COLUMNS, BILLING_COLUMNS, CALL_COLUMNS, CallDetailResource, CallResource, FRAUD_SCORE_COLUMNS, jsonObject, pageOf, selectList } from './resources';
import { viewerOf } from './viewer';
import { sendJsonText } from './json-answer';

const E164_OR_PREFIX = /^\+[1-9]\d{0,14}\*$|^\+[1-9]\d{6,14}$/;
const AccountId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only (1-100)');

/** The calls search: what the list and the console's CSV export filter on. */
export const CallsFilter = z.object({
  /** the caller or the number called (ANI or DNIS): an E.164 number, or a prefix ending in `*` (`+1813*`) */
  number: z.string().max(17).regex(E164_OR_PREFIX, 'must be an E.164 number (+18135551234) or a prefix ending in * (+1813*)').optional(),
  /** the caller's number exactly */
  ani: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, e.g. +18135551234').optional(),
  campaignId: text({ max: 100 }).optional(),
  /** the buyer that won the call */
  buyerId: AccountId.optional(),
  sellerId: AccountId.optional(),
  outcome: z.enum(['bridged', 'rejected', 'no_buyer_answered', 'abandoned', 'failed', 'routed', 'node_lost']).optional(),
  /** why the call was refused or ended (reject reason or end reason), e.g. dnc_global, hangup */
  reason: z.string().max(100).regex(/^[a-z0-9_]+$/, 'must be a reason code, e.g. dnc_global').optional(),
  /** calls that started at or after this instant */
  from: isoDate().optional(),
  /** calls that started before this instant */
  to: isoDate().optional(),
});
export type CallsFilter = z.infer<typeof CallsFilter>;
const ListQuery = CallsFilter.extend({
  limit: queryInt(1, 500).default(50),
  cursor: cursorParam().optional(),
}).strict();
const IdParam = z.object({ id: text({ max: 100 }) });

export const callsRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/calls', summary: 'Calls, newest first, searched by number (ANI or DNIS, exact or prefix*), campaign, buyer, seller, outcome, reason and period, a page at a time', roles: ['admin', 'agent', 'seller', 'buyer'], query: ListQuery, response: pageOf(CallResource) },
  { method: 'get', path: '/v1/calls/:id', summary: 'One call with attempts, billing and postings (and for operators its trace and fraud scores)', roles: ['admin', 'agent', 'seller', 'buyer'], params: IdParam, response: CallDetailResource },
];

/** The cursor is the last row's (startedAt, id), so pages stay stable while calls keep arriving. */
const encodeCursor = encodeTimeCursor;
/** A call id as stored: any text Postgres holds (the flow makes UUIDs; imports and tests may not). */
const CALL_ID = { test: (id: string) => id.length > 0 && id.length <= 200 && isStorableText(id) };
const decodeCursor = (c: string): [string, string] => decodeTimeCursor(c, CALL_ID);

/** SQL condition limiting calls to what the principal may see ($1 is the account id). */
function scope(p: ApiPrincipal): { sql: string; account?: string } {
  if (p.role === 'admin' || p.role === 'agent') return { sql: '$1::text IS NULL' };
  if (p.role === 'seller') return { sql: 'c.seller_account_id = $1', account: p.accountId! };
  return { sql: '(c.winner_buyer_id = $1 OR EXISTS (SELECT 1 FROM bridge_attempts a WHERE a.call_id = c.id AND a.buyer_id = $1))', account: p.accountId! };
}

/** A call as the list shows it: the resource itself (see CALL_SELECT). */
interface CallRow {
  id: string;
  startedAt: string;
  winnerBuyerId: string | null;
  [field: string]: unknown;
}

/** The nested parts of one call, as JSON text. */
interface CallExtras {
  xTrace: string | null;
  xAttempts: string;
  xFraud: string;
  xBilling: string | null;
  xPostings: string;
}

/** Built once: every call column under its resource field name. */
const CALL_SELECT = selectList(CALL_COLUMNS, 'c');

/**
 * Filtering by buyer tells who won a call: a buyer may filter by itself only, a seller only when it may see the
 * buyer side of its calls.
 */
export function assertMayFilterByBuyer(f: CallsFilter, v: Viewer): void {
  if (f.buyerId === undefined || isOperator(v)) return;
  if (v.role === 'buyer' ? f.buyerId === v.accountId : v.seesBuyerDetails === true) return;
  throw new ApiError(403, 'forbidden_field', 'buyerId: this key may not search calls by buyer', 'buyerId');
}

/**
 * The calls search as one prepared statement: the calls `principal` may see, matching `f`, newest first, after
 * `cursor` (a list cursor), `limit` rows. Rows are call resources (before the role projection: apply
 * projectCallRow for a non-operator). Exported for the console's CSV export.
 */
export function callsQuery(principal: ApiPrincipal, f: CallsFilter, page: { limit: number; cursor?: string }): QueryConfig {
  const s = scope(principal);
  const params: unknown[] = [s.account ?? null];
  const where = [s.sql];
  const add = (sql: (n: number) => string, v: unknown) => {
    params.push(v);
    where.push(sql(params.length));
  };
  if (f.number?.endsWith('*')) add((n) => `(c.ani LIKE $${n} OR c.dnis LIKE $${n})`, `${f.number.slice(0, -1)}%`);
  else if (f.number) add((n) => `(c.ani = $${n} OR c.dnis = $${n})`, f.number);
  if (f.ani) add((n) => `c.ani = $${n}`, f.ani);
  if (f.campaignId) add((n) => `c.campaign_id = $${n}`, f.campaignId);
  if (f.buyerId) add((n) => `c.winner_buyer_id = $${n}`, f.buyerId);
  if (f.sellerId) add((n) => `c.seller_account_id = $${n}`, f.sellerId);
  if (f.outcome) add((n) => `c.outcome = $${n}`, f.outcome);
  if (f.reason) add((n) => `(c.reject_reason = $${n} OR c.end_reason = $${n})`, f.reason);
  if (f.from) add((n) => `c.started_at >= $${n}`, f.from);
  if (f.to) add((n) => `c.started_at < $${n}`, f.to);
  if (page.cursor) {
    const [at, id] = decodeCursor(page.cursor);
    params.push(at, id);
    where.push(`(c.started_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(page.limit);
  return preparedJsonQuery(`SELECT ${CALL_SELECT} FROM calls c WHERE ${where.join(' AND ')} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params);
}

/** The next page's cursor after `rows` of a page of `limit`, or null on the last page. */
export function nextCallsCursor(rows: readonly { startedAt: string; id: string }[], limit: number): string | null {
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? encodeCursor(last.startedAt, last.id) : null;
}

/**
 * The calls search for operators, whose rows go out unprojected: Postgres writes each row's JSON (row_to_json of
 * the same resource columns, in the same order, so the text is what JSON.stringify of the parsed row gives: compact,
 * ISO timestamps as pg-rows.ts writes them) and joins the page's rows into one text, so the node reads one row
 * whatever the page's size: the items, their count, and the last one's (startedAt, id) for the cursor. The
 * aggregates read the search's rows in its order (an aggregate over a sorted subquery takes its rows in that order,
 * as Postgres documents; the search ends in ORDER BY ... LIMIT), so no aggregate sorts again.
 * Reading 50 rows of 22 columns into objects and writing them out again was most of the list's CPU on the node (a
 * page of 50, 1,000 times on one connection: 681 -> 327 us with a row of JSON per call); one row per page cut the
 * node's part again, 256 -> 176 us a page, with its backend at 363 -> 383 us (7 interleaved rounds of 1,000 each).
 */
function operatorCallsQuery(principal: ApiPrincipal, f: CallsFilter, page: { limit: number; cursor?: string }): QueryConfig {
  const q = callsQuery(principal, f, page);
  return preparedJsonQuery(
    `SELECT coalesce(string_agg(row_to_json(r)::text, ','), '') AS items, count(*)::int AS n,
       (array_agg(r."startedAt"))[count(*)] AS "lastStartedAt", (array_agg(r.id))[count(*)] AS "lastId"
     FROM (${q.text}) r`,
    q.values ?? [],
  );
}

/** A page of operators' calls as operatorCallsQuery reads it: the items' JSON joined by commas. */
interface OperatorPage {
  items: string;
  n: number;
  lastStartedAt: string | null;
  lastId: string | null;
}

/**
 * The nested parts of one call, as SQL over the call `c` ($1 the viewer's account, $3 whether it is an operator,
 * $4 whether it sees every attempt): JSON values, or their text with `::text`.
 */
const detailParts = (cast: '' | '::text') => ({
  attempts: `(SELECT coalesce(json_agg(${jsonObject(ATTEMPT_COLUMNS, 'a')} ORDER BY a.attempt_no), '[]')${cast} FROM bridge_attempts a
      WHERE a.call_id = c.id AND ($4 OR a.buyer_id = $1))`,
  billing: `(SELECT ${jsonObject(BILLING_COLUMNS, 'b')}${cast} FROM call_billing b WHERE b.call_id = c.id)`,
  postings: `(SELECT coalesce(json_agg(json_build_object('kind', t.kind, 'accountId', e.account_id, 'amountCents', e.amount_cents::float8, 'createdAt', e.created_at) ORDER BY e.id), '[]')${cast}
      FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.call_id = c.id AND ($3 OR e.account_id = $1))`,
  trace: `(SELECT trace${cast} FROM call_decisions WHERE call_id = c.id AND $3)`,
  fraud: `(SELECT coalesce(json_agg(${jsonObject(FRAUD_SCORE_COLUMNS, 'f')} ORDER BY f.stage), '[]')${cast} FROM fraud_scores f
      WHERE f.call_id = c.id AND $3)`,
});

/** One call and everything about it, in one statement; the nested parts come back as JSON text (for the projections). */
const TEXT_PARTS = detailParts('::text');
const CALL_DETAIL_SQL = `SELECT ${CALL_SELECT}, ${TEXT_PARTS.trace} AS "xTrace", ${TEXT_PARTS.attempts} AS "xAttempts",
   ${TEXT_PARTS.fraud} AS "xFraud", ${TEXT_PARTS.billing} AS "xBilling", ${TEXT_PARTS.postings} AS "xPostings"
 FROM calls c WHERE `;

/**
 * One call for operators, who see all of it unprojected: Postgres writes the whole answer (row_to_json of the call's
 * resource columns and its parts, in the answer's order; the parts' JSON goes in as Postgres wrote it, as the text
 * form did), so the node reads one field, not 28 columns it would write out again.
 */
const JSON_PARTS = detailParts('');
const OPERATOR_CALL_DETAIL_SQL = `SELECT row_to_json(r)::text AS "json" FROM (SELECT ${CALL_SELECT}, ${JSON_PARTS.attempts} AS attempts,
   ${JSON_PARTS.billing} AS billing, ${JSON_PARTS.postings} AS postings, ${JSON_PARTS.trace} AS trace, ${JSON_PARTS.fraud} AS fraud
 FROM calls c WHERE $1::text IS NULL AND c.id = $2) r`;

export function callsRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();

  router.get('/v1/calls', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = ListQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const { limit, cursor, ...f } = q.data;
      const principal = req.principal!;
      const viewer = await viewerOf(pool, principal);
      assertMayFilterByBuyer(f, viewer);
      const pageOpts = { limit, ...(cursor ? { cursor } : {}) };
      if (isOperator(viewer)) {
        const { rows: [p] } = await pool.query<OperatorPage>(operatorCallsQuery(principal, f, pageOpts));
        // As nextCallsCursor: a full page has a next one, from its last row.
        const cursor = p && p.n === limit && p.lastStartedAt !== null && p.lastId !== null ? encodeCursor(p.lastStartedAt, p.lastId) : null;
        sendJsonText(req, res, `{"items":[${p?.items ?? ''}],"nextCursor":${JSON.stringify(cursor)}}`);
        return;
      }
      const { rows } = await pool.query<CallRow>(callsQuery(principal, f, pageOpts));
      sendJsonText(req, res, JSON.stringify({ items: rows.map((r) => projectCallRow(r, viewer)), nextCursor: nextCallsCursor(rows, limit) }));
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/calls/:id', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const p = IdParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const principal = req.principal!;
      const s = scope(principal);
      const operator = principal.role === 'admin' || principal.role === 'agent';
      if (operator) {
        const { rows: [answer] } = await pool.query<{ json: string }>(preparedJsonQuery(OPERATOR_CALL_DETAIL_SQL, [null, p.data.id, true, true]));
        if (!answer) throw new ApiError(404, 'not_found', 'no such call');
        sendJsonText(req, res, answer.json);
        return;
      }
      const seesAllAttempts = principal.role === 'seller';
      const { rows } = await pool.query<CallRow & CallExtras>(
        preparedJsonQuery(`${CALL_DETAIL_SQL}${s.sql} AND c.id = $2`, [s.account ?? null, p.data.id, false, seesAllAttempts]),
      );
      const row = rows[0];
      if (!row) throw new ApiError(404, 'not_found', 'no such call');
      const { xTrace: _trace, xFraud: _fraud, xAttempts, xBilling, xPostings, ...call } = row;
      const viewer = await viewerOf(pool, principal);
      sendJsonText(req, res, JSON.stringify({
        ...projectCallRow(call, viewer),
        attempts: projectAttempts(JSON.parse(xAttempts) as AttemptRow[], viewer),
        billing: projectBilling(xBilling ? (JSON.parse(xBilling) as BillingRow) : null, viewer, call.winnerBuyerId),
        postings: projectPostings(JSON.parse(xPostings) as PostingRow[], viewer),
      }));
    } catch (err) {
      next(err);
    }
  });

  return router;
}
