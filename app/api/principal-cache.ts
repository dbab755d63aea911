/**
 * API keys as this node last read them, shared by REST and socket.io, so a busy key costs no query per request.
 * An entry lives `ttlMs` at most; a revocation or a paused account drops its entries at once (AccessInvalidation).
 */
import type { Pool } from 'pg';
import { findApiKey, type KeyHolder } from '../store/api-keys';
import type { AccessChange } from './access-invalidation';

/** What `cached` returns when this node holds nothing current for a key (ask `lookup`). */
export const NOT_CACHED = Symbol('not cached');

interface Entry {
  holder: KeyHolder | undefined;
  until: number;
}

export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every drop: a lookup that started before one does not cache what it read (it may predate the change). */
  private generation = 0;

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The cached answer for this secret without waiting (undefined: unknown or revoked), or NOT_CACHED. A busy key's
   * requests take this path: no promise, no microtask, nothing allocated.
   */
  cached(key: string): KeyHolder | undefined | typeof NOT_CACHED {
    const hit = this.entries.get(key);
    return hit && hit.until >= Date.now() ? hit.holder : NOT_CACHED;
  }

  /** The live key with this secret (undefined: unknown or revoked), from the cache or Postgres. */
  async lookup(key: string): Promise<KeyHolder | undefined> {
    const hit = this.cached(key);
    if (hit !== NOT_CACHED) return hit;
    const generation = this.generation;
    const holder = await findApiKey(this.pool, key);
    if (generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { holder, until: Date.now() + this.ttlMs });
    }
    return holder;
  }

  /** Forgets the entries a change concerns. */
  drop(change: AccessChange): void {
    this.generation += 1;
    if ('all' in change) {
      this.entries.clear();
      return;
    }
    for (const [key, e] of this.entries) if (e.holder && concerns(change, e.holder.principal)) this.entries.delete(key);
  }
}

/** Whether a change concerns this principal. */
export function concerns(change: AccessChange, p: { keyId: string; accountId?: string }): boolean {
  if ('all' in change) return true;
  if ('keyId' in change) return p.keyId === change.keyId;
  return p.accountId === change.accountId;
}
