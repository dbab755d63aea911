import type { NextFunction, Request, Response } from 'express';
import type { Pool } from 'pg';
import { findApiKey, type ApiPrincipal, type Role } from '../store/api-keys';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: ApiPrincipal;
  }
}

/**
 * Authenticates `Authorization: Bearer <api key>`. Lookups are cached briefly so a busy key costs no query
 * per request; a revoked key stops working within the cache time.
 */
export function authenticate(pool: Pool, cacheMs = 30_000) {
  const cache = new Map<string, { principal: ApiPrincipal | undefined; until: number }>();
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    try {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new ApiError(401, 'unauthenticated', 'missing API key: send Authorization: Bearer <key>');
      const key = match[1]!;
      let hit = cache.get(key);
      if (!hit || hit.until < Date.now()) {
        hit = { principal: await findApiKey(pool, key), until: Date.now() + cacheMs };
        cache.set(key, hit);
        if (cache.size > 10_000) cache.clear();
      }
      if (!hit.principal) throw new ApiError(401, 'unauthenticated', 'unknown or revoked API key');
      req.principal = hit.principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.principal || !roles.includes(req.principal.role)) {
      next(new ApiError(403, 'forbidden', `this route needs one of the roles: ${roles.join(', ')}`));
      return;
    }
    next();
  };
}

/** Admins act for any account; everyone else only for their own. */
export function assertOwns(principal: ApiPrincipal, accountId: string): void {
  if (principal.role === 'admin') return;
  if (principal.accountId !== accountId) throw new ApiError(404, 'not_found', 'no such resource');
}
