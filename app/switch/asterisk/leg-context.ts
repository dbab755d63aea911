/**
 * What a call leg, a bridge attempt and an originate share: the REST client, the event router, ids, settings.
 */
import { randomUUID } from 'node:crypto';
import type { CallLogger } from '../../observability/logger';
import type { HangupCause } from '../port';
import type { AriRest } from './ari-rest';
import type { BridgePool } from './bridge-pool';
import type { ChannelRouter } from './channel-router';
import type { AsteriskTimeouts } from './config';

type IdRole = 'b' | 'o' | 'br' | 'pb';
const ROLES: ReadonlySet<string> = new Set<IdRole>(['b', 'o', 'br', 'pb']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ids of what we create (originated channels, bridges, playbacks) carry the app name, so reconciliation can tell
 * our leftovers from everybody else's: `<app>-<role>-<uuid>`. An id is ours only if it is that whole shape, not
 * merely if it starts with `<app>-`: another Stasis app on the switch may be named `<app>-<x>` (apps `callx` and
 * `callx-b`: `callx-b-br-<uuid>` is callx-b's bridge, not a `callx` id of role `b`). The shape is unambiguous
 * for any two app names: after `<app>-` must come a role, a dash and a uuid and nothing else, which no id of an
 * app named `<app>-<x>` leaves. It is the shape every version made, so ids of calls made before an upgrade (and
 * adopted after a restart) are still recognised.
 */
export class IdFactory {
  private readonly prefix: string;

  constructor(app: string) {
    this.prefix = `${app}-`;
  }

  next(role: IdRole): string {
    return `${this.prefix}${role}-${randomUUID()}`;
  }

  /** The role of an id this app made, else undefined. */
  roleOf(id: string): IdRole | undefined {
    if (!id.startsWith(this.prefix)) return undefined;
    const dash = id.indexOf('-', this.prefix.length);
    if (dash === -1) return undefined;
    const role = id.slice(this.prefix.length, dash);
    return ROLES.has(role) && UUID.test(id.slice(dash + 1)) ? (role as IdRole) : undefined;
  }

  isOurs(id: string): boolean {
    return this.roleOf(id) !== undefined;
  }

  isBuyerLeg(id: string): boolean {
    return this.roleOf(id) === 'b';
  }
}

export interface LegContext {
  rest: AriRest;
  router: ChannelRouter;
  ids: IdFactory;
  app: string;
  timeouts: AsteriskTimeouts;
  buyerTrunk: string | undefined;
  prompts: Record<string, string>;
  /** Empty bridges kept for the next call. */
  bridges: BridgePool;
  /** Keeps background work (cleanup after a call) visible to stop(). */
  track(work: Promise<unknown>): void;
}

export class LegGoneError extends Error {
  constructor(what: string, readonly hangupCause: HangupCause) {
    super(`${what}: the call leg is gone (${hangupCause})`);
    this.name = 'LegGoneError';
  }
}

/** Logs a failed cleanup step unless the thing was already gone. */
export function logCleanupError(log: CallLogger, what: string, err: unknown): void {
  const e = err as { kind?: string; message?: string };
  if (e.kind === 'not_found') return;
  log.warn({ err: e.message ?? String(err) }, `${what} failed`);
}
