import type { NextFunction, Request, Response } from 'express';
import type { ZodError } from 'zod';

/** Every API error is JSON with a stable code, a message, and the field at fault when there is one. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

export function fromZod(err: ZodError): ApiError {
  const issue = err.issues[0]!;
  const field = issue.path.join('.') || undefined;
  return new ApiError(400, 'validation_failed', field ? `${field}: ${issue.message}` : issue.message, field);
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
