/**
 * The call log as CSV: `GET /v1/calls/export.csv` takes the calls list's filters (calls-routes.ts), selects the
 * same calls with the same query, and shows each role the same fields of them (projections.ts). The file is
 * streamed a page of rows at a time, so an export of a month of calls holds one page in memory, not the month.
 */
import { Router as ExpressRouter, type Response } from 'express';
import type { Pool } from 'pg';
import { requireRole } from './auth';
import { fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { assertMayFilterByBuyer, CallsFilter, callsQuery, nextCallsCursor } from './calls-routes';
import { projectCallRow } from './projections';
import { viewerOf } from './viewer';

const ExportQuery = CallsFilter.strict();
const PAGE_ROWS = 1000;

/** The columns of the file, in order: the call resource's fields, as the list names them. */
const COLUMNS = [
  'id', 'direction', 'ani', 'dnis', 'campaignId', 'sellerAccountId', 'outcome', 'rejectReason', 'winnerBuyerId', 'winnerTargetId',
  'priceCents', 'startedAt', 'answeredAt', 'bridgedAt', 'endedAt', 'durationSec', 'billableSec', 'hangupCause', 'endReason',
] as const;

export const callsExportRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/calls/export.csv', summary: 'The calls list as a CSV file (same filters, same fields per role), newest first', roles: ['admin', 'agent', 'seller', 'buyer'], query: ExportQuery, csv: true },
];

/**
 * One CSV field: quoted when it holds a comma, quote or line break. A value a spreadsheet would run as a formula
 * (`=`, `@`, or `+`/`-` not followed by a digit: phone numbers keep their `+`) gets a leading apostrophe.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=@\t\r]/.test(s) || /^[+-](?!\d)/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const writeAndWait = (res: Response, chunk: string): Promise<void> =>
  res.write(chunk) ? Promise.resolve() : new Promise((resolve) => res.once('drain', () => resolve()));

export function callsExportRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/calls/export.csv', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    let started = false;
    try {
      const q = ExportQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const principal = req.principal!;
      const viewer = await viewerOf(pool, principal);
      assertMayFilterByBuyer(q.data, viewer);
      res.status(200).type('text/csv; charset=utf-8').setHeader('Content-Disposition', 'attachment; filename="calls.csv"');
      started = true;
      await writeAndWait(res, `${COLUMNS.join(',')}\r\n`);
      let cursor: string | undefined;
      for (;;) {
        const { rows } = await pool.query<{ id: string; startedAt: string } & Record<string, unknown>>(callsQuery(principal, q.data, { limit: PAGE_ROWS, ...(cursor ? { cursor } : {}) }));
        if (rows.length === 0) break;
        const lines = rows.map((r) => {
          const shown = projectCallRow(r, viewer);
          return COLUMNS.map((c) => csvField(shown[c])).join(',');
        });
        await writeAndWait(res, `${lines.join('\r\n')}\r\n`);
        const next = nextCallsCursor(rows, PAGE_ROWS);
        if (!next || res.destroyed) break;
        cursor = next;
      }
      res.end();
    } catch (err) {
      // Once the file has begun, the status is sent: cut the file short rather than append an error to it.
      if (started) res.destroy(err as Error);
      else next(err);
    }
  });
  return router;
}
