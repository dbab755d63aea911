import type { NextFunction, Request, Response } from 'express';
import type { ApiPrincipal, KeyHolder, Role } from '../store/api-keys';
import { ApiError } from './errors';
import { NOT_CACHED, type PrincipalCache } from './principal-cache';

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

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authenticates `Authorization: Bearer <api key>`. Lookups are cached (PrincipalCache) so a busy key costs no query
 * per request; a revoked key or a paused account is refused on every node as soon as the change is published.
 * A cached key is answered at once (no promise): this runs on every API request.
 */
export function authenticate(principals: PrincipalCache) {
  const admit = (holder: KeyHolder | undefined, req: Request, next: NextFunction): void => {
    const refused = keyRefusal(holder);
    if (refused) {
      next(refused);
      return;
    }
    req.principal = holder!.principal;
    next();
  };
  return (req: Request, _res: Response, next: NextFunction): void => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match) {
      next(new ApiError(401, 'unauthenticated', 'missing API key: send Authorization: Bearer <key>'));
      return;
    }
    const key = match[1]!;
    const hit = principals.cached(key);
    if (hit !== NOT_CACHED) {
      admit(hit, req, next);
      return;
    }
    principals.lookup(key).then((holder) => admit(holder, req, next)).catch(next);
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
