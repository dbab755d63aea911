import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ZodError } from 'zod';

/** Every API error is JSON with a stable code, a message, and the field at fault when there is one. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * A zod failure as the API error the client sees: the first issue, in words, naming its field. zod's own
 * wording for a wrong type ("expected object, received undefined") is replaced by what to send.
 */
export function fromZod(err: ZodError): ApiError {
  const issue = err.issues[0]!;
  const field = issue.path.join('.') || undefined;
  const message = issue.code === 'invalid_type' ? typeWords(issue.expected, field) : issue.message;
  return new ApiError(400, 'validation_failed', field ? `${field}: ${message}` : message, field);
}

function typeWords(expected: string, field: string | undefined): string {
  if (expected === 'date') return 'must be an ISO 8601 date-time';
  if (expected === 'object' && field === undefined) return 'send a JSON object (Content-Type: application/json)';
  if (expected === 'object') return 'must be an object';
  if (expected === 'array') return 'must be a list';
  if (expected === 'string') return 'must be text';
  if (expected === 'int' || expected === 'number') return 'must be a number';
  if (expected === 'boolean') return 'must be true or false';
  return `must be ${expected === 'nonoptional' ? 'given' : `of type ${expected}`}`;
}

/** What a column names, for errors in words: the noun, and the API field that carries it. */
const COLUMN_WORDS: Record<string, { noun: string; field: string }> = {
  did: { noun: 'tracking number', field: 'did' },
  campaign_id: { noun: 'campaign', field: 'campaignId' },
  seller_account_id: { noun: 'account', field: 'sellerAccountId' },
  buyer_account_id: { noun: 'account', field: 'buyerAccountId' },
  account_id: { noun: 'account', field: 'accountId' },
  number: { noun: 'number', field: 'number' },
};
const TABLE_NOUNS: Record<string, string> = {
  accounts: 'account', campaigns: 'campaign', buyer_targets: 'target', tracking_numbers: 'tracking number', api_keys: 'API key',
  consent_records: 'consent record', blocked_numbers: 'blocked number', dnc_entries: 'DNC entry',
};

/** The key a Postgres constraint error names (`Key (did)=(+1888...)`), or undefined. Only its parts are used. */
function keyOf(detail: string | undefined): { column: string; value: string } | undefined {
  const m = /^Key \(([a-z_]+)\)=\((.*)\) /.exec(detail ?? '');
  return m ? { column: m[1]!, value: m[2]! } : undefined;
}

/**
 * A Postgres error a write can cause, as an API error in words (never Postgres's text): a unique violation is
 * 409 "tracking number +1888... already exists", a missing reference 422 "campaign x not found", a check 422.
 * Anything else is rethrown (a 500).
 */
export function fromDbError(err: unknown): never {
  const e = err as { code?: string; constraint?: string; detail?: string; table?: string };
  const key = keyOf(e.detail);
  const words = key ? COLUMN_WORDS[key.column] : undefined;
  if (e.code === '23505') {
    const noun = key?.column === 'id' || !words ? TABLE_NOUNS[e.table ?? ''] ?? 'record' : words.noun;
    const field = key?.column === 'id' ? 'id' : words?.field;
    throw new ApiError(409, 'conflict', key ? `${noun} ${key.value} already exists` : `this ${noun} already exists`, field);
  }
  if (e.code === '23503') {
    // On insert the missing row is the referenced one; on delete it is this row that others still refer to.
    if (words && key) throw new ApiError(422, 'unknown_reference', `${words.noun} ${key.value} not found`, words.field);
    throw new ApiError(409, 'in_use', `this ${TABLE_NOUNS[e.table ?? ''] ?? 'record'} is still in use`);
  }
  if (e.code === '23514') throw new ApiError(422, 'invalid', `refused by a rule of the data${e.constraint ? ` (${e.constraint})` : ''}`);
  throw err;
}

/** Content types of a JSON body (`application/json`, `application/merge-patch+json`, ...). */
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json$/i;

/**
 * Refuses a request body that is not JSON (a form, text) with 415 before any route reads it, except on the
 * routes that take text bodies (`textPaths`: list imports). A request without a body passes.
 */
export function requireJsonBody(textPaths: readonly string[]) {
  const text = new Set(textPaths);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (!hasBody || text.has(`${req.baseUrl}${req.path}`)) return next();
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (JSON_TYPE.test(type)) return next();
    next(new ApiError(415, 'unsupported_media_type', 'send JSON (Content-Type: application/json)'));
  };
}

/**
 * A body parser run only for requests that may have a body (a Transfer-Encoding or a Content-Length header: the
 * parser's own test is narrower, so it still decides for those). Every API request passes the parser; the GETs,
 * most of them, now skip its checks and the `req.body = undefined` it would set (express leaves it undefined too).
 */
export function whenBody(parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined) return parser(req, res, next);
    next();
  };
}

/**
 * The errors body-parser and the router raise for a request that is wrong on the wire (they carry `type` or are
 * URIErrors from decoding the path), as the API error the client should see. Anything else is ours: a 500.
 */
export function requestError(err: unknown): ApiError | undefined {
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown; limit?: unknown };
  switch (e.type) {
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `request body is larger than ${typeof e.limit === 'number' ? `${e.limit} bytes` : 'the limit'}`);
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_charset', 'request body charset is not supported: send UTF-8');
    case 'encoding.unsupported':
      return new ApiError(415, 'unsupported_encoding', 'request Content-Encoding is not supported: send identity, gzip, deflate or br');
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    default:
      break;
  }
  // A bad %-escape in the path: the router fails to decode a parameter (URIError, status 400).
  if (err instanceof URIError) return new ApiError(400, 'bad_path', 'the path has an invalid %-escape');
  // Any other error raised by the HTTP stack (http-errors) that is marked as safe to show and is the client's.
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400 && status < 500 && e.expose === true) {
    return new ApiError(status, 'bad_request', (err as Error).message || 'bad request');
  }
  return undefined;
}

/** A path fit for a log line: the route's pattern when one matched (never its values, which may be phone numbers). */
export function loggablePath(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  return req.path.replace(/\d{4,}/g, (d) => `<${d.length} digits>`);
}

/** Masks runs of digits long enough to be a phone number, so an error message logged cannot carry one in clear. */
export const maskDigits = (s: string): string => s.replace(/\+?\d[\d\s().-]{5,}\d/g, '<number>');

export interface ErrorLog {
  /** a request the server failed (500): logged as an error */
  failed(err: unknown, req: Request): void;
  /** a request refused for what it sent on the wire (413, 415, 400): a warning at most, never its payload */
  refused?(err: ApiError, req: Request): void;
}

export function errorHandler(log: ErrorLog | ((err: unknown, req: Request) => void)) {
  const logs: ErrorLog = typeof log === 'function' ? { failed: log } : log;
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    const refused = requestError(err);
    if (refused) {
      logs.refused?.(refused, req);
      res.status(refused.status).json({ error: { code: refused.code, message: refused.message } });
      return;
    }
    logs.failed(err, req);
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error' } });
  };
}
