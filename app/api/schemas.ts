/**
 * The zod primitives every route module builds its schemas from, bounded by what the columns behind them hold, so
 * bad input is a 400 naming the field and never reaches Postgres to come back as a 500:
 * - integers stored in `integer` columns stop at the int4 maximum; money (bigint cents) at a sane maximum that
 *   stays exact in a JS number and in float8;
 * - dates are strict ISO 8601 (no `Date.parse` guessing: `' OR '1'='1` is not 2001-01-01) between 1970-01-01 and
 *   9999-12-31, the range timestamptz and the API's clients agree on;
 * - text has no NUL byte (Postgres text cannot hold one) and no lone UTF-16 surrogate (not Unicode: jsonb refuses
 *   it and UTF-8 cannot carry it);
 * - cursors are checked in shape before any of them is used in a query.
 */
import { z } from 'zod';
import { isStorableText, NOT_STORABLE } from '../domain/text';
import { ApiError } from './errors';

/** Postgres `integer`. */
export const INT4_MAX = 2_147_483_647;
/** The most any money field takes: $1bn in cents, far inside bigint and exact in float8 and JS numbers. */
export const MAX_CENTS = 100_000_000_000;
/** The most a standing bid may be: $1M a call. */
export const MAX_BID_CENTS = 100_000_000;

export { isStorableText };

/** Free text of `min`..`max` characters that Postgres can store; `trim` trims first. */
export function text(opts: { min?: number; max: number; trim?: boolean }) {
  const base = opts.trim ? z.string().trim() : z.string();
  return base
    .min(opts.min ?? 1)
    .max(opts.max)
    .refine(isStorableText, NOT_STORABLE);
}

/** A JSON integer stored in an `integer` column. */
export const int4 = (min = 0, max = INT4_MAX) => z.number().int().min(min).max(max);
/** A query-string integer (text coerced) stored in or compared with an `integer` column. */
export const queryInt = (min: number, max = INT4_MAX) => z.coerce.number().int().min(min).max(max);
/** An amount of money in cents for a bigint column: non-negative unless `signed`. */
export const cents = (opts: { signed?: boolean; max?: number } = {}) => {
  const max = opts.max ?? MAX_CENTS;
  return z.number().int().min(opts.signed ? -max : 0).max(max);
};

/**
 * An ISO 8601 date (`2026-12-07`, midnight UTC) or date-time with a zone (`2026-12-07T08:00:00Z`,
 * `...08:00:00.123+02:00`), within 1970-01-01..9999-12-31, whose fields are a real calendar date.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;
export const MIN_DATE_MS = Date.UTC(1970, 0, 1);
export const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The instant an ISO 8601 string names, or undefined when it is not one this API accepts. */
export function parseIsoDate(s: string): Date | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, oh, om] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59)) return undefined;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return undefined;
  // Date-only strings are UTC midnight by ECMAScript's rule, date-times carry their zone: Date reads both exactly.
  const date = new Date(s);
  const ms = date.getTime();
  if (Number.isNaN(ms) || ms < MIN_DATE_MS || ms > MAX_DATE_MS) return undefined;
  return date;
}

/** A date in a query or body: strict ISO 8601 text in, a Date out. */
export const isoDate = () =>
  z
    .string()
    .max(40)
    .refine((s) => parseIsoDate(s) !== undefined, 'must be an ISO 8601 date or date-time with a zone, between 1970-01-01 and 9999-12-31')
    .transform((s) => parseIsoDate(s)!)
    .meta({ format: 'date-time' });

const badCursor = (): ApiError => new ApiError(400, 'validation_failed', 'cursor: is not a cursor this API returned', 'cursor');

/** A cursor as sent: base64url of at most 400 characters (its contents are checked by the decoder). */
export const cursorParam = () => z.string().max(400).regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this API returned');

/**
 * A keyset cursor over (timestamp, key), for lists ordered by time then a key: base64url JSON `[iso, key]`.
 * Decoding checks the timestamp is a strict ISO date in range and the key has the shape the list's keys have,
 * so a forged cursor is a 400, never a query Postgres refuses.
 */
export const encodeTimeCursor = (at: string, key: string): string => Buffer.from(JSON.stringify([at, key])).toString('base64url');
export function decodeTimeCursor(cursor: string, keyShape: { test(key: string): boolean }): [string, string] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') throw badCursor();
  if (parseIsoDate(v[0]) === undefined || !keyShape.test(v[1])) throw badCursor();
  return [v[0], v[1]];
}

/**
 * `to - from` in ms for an object's refinements on a period, or NaN when either failed to parse (zod runs an
 * object's refinements even when a field failed, with the raw value): compare so that NaN passes, the field's
 * own error being the one reported.
 */
export function spanMs(p: { from?: unknown; to?: unknown }): number {
  return p.from instanceof Date && p.to instanceof Date ? p.to.getTime() - p.from.getTime() : Number.NaN;
}
