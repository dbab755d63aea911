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

/** Ids of what we create (originated channels, bridges, playbacks) carry the app name, so reconciliation can
 *  tell our leftovers from everybody else's. */
export class IdFactory {
  constructor(private readonly app: string) {}

  next(role: 'b' | 'o' | 'br' | 'pb'): string {
    return `${this.app}-${role}-${randomUUID()}`;
  }

  isOurs(id: string): boolean {
    return id.startsWith(`${this.app}-`);
  }

  isBuyerLeg(id: string): boolean {
    return id.startsWith(`${this.app}-b-`);
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
