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

export function errorHandler(log: (err: unknown, req: Request) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    if ((err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      return;
    }
    log(err, req);
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error' } });
  };
}
