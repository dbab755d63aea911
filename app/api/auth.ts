import type { NextFunction, Request, Response } from 'express';
import type { ApiPrincipal, KeyHolder, Role } from '../store/api-keys';
import { ApiError } from './errors';
import type { PrincipalCache } from './principal-cache';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: ApiPrincipal;
  }
}

/**
 * Why a key is refused (an API error), or undefined when it may act: unknown or revoked keys are 401, keys of a
 * paused account 403. REST and socket.io refuse with the same words.
 */
export function keyRefusal(holder: KeyHolder | undefined): ApiError | undefined {
  if (!holder) return new ApiError(401, 'unauthenticated', 'unknown or revoked API key');
  if (holder.accountPaused) return new ApiError(403, 'account_paused', `account ${holder.principal.accountId} is paused: its keys are refused until the platform reactivates it`);
  return undefined;
}

/**
 * Authenticates `Authorization: Bearer <api key>`. Lookups are cached (PrincipalCache) so a busy key costs no query
 * per request; a revoked key or a paused account is refused on every node as soon as the change is published.
 */
export function authenticate(principals: PrincipalCache) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    try {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new ApiError(401, 'unauthenticated', 'missing API key: send Authorization: Bearer <key>');
      const holder = await principals.lookup(match[1]!);
      const refused = keyRefusal(holder);
      if (refused) throw refused;
      req.principal = holder!.principal;
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
