/**
 * Group commit for standing-bid updates, one writer per node (REST and socket.io share it). One statement is in
 * flight at a time; batches arriving meanwhile queue up and leave together as the next statement: rows locked in
 * id order (other nodes write too), each update checked against its own batch's principal (a buyer changes only
 * its own targets, admins any), the last authorised write per target in arrival order wins. A batch is answered
 * only once the statement carrying it committed and its bids are in this node's snapshot (so the next auction here
 * uses them) and were published to the other nodes; a failed statement fails every batch it carried and changes
 * nothing. A failed publish does not fail the batch (its bids are written and in effect here): it is logged, and
 * the other nodes take the bids at their next snapshot reload. Batches that update the same rows no longer wait on
 * each other's row locks and commits: they share one.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import type { ApiPrincipal } from './api-keys';
import type { BidResult, BidUpdate } from './bid-updates';
import { publishBids, type WrittenBid } from '../exchange/snapshot-source';

interface Pending {
  /** null: any target (admins); otherwise the only buyer account whose targets it may change */
  scope: string | null;
  updates: readonly BidUpdate[];
  /** index of each update's first occurrence of its target in the batch (later ones are duplicate_in_batch) */
  firsts: Map<string, number>;
  resolve: (results: BidResult[]) => void;
  reject: (err: Error) => void;
}

/** Updates in one statement at most (a batch is never split: a bigger one goes alone). */
const MERGED_MAX = 20_000;

const MERGED_SQL = `WITH u AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[]) AS u(id, bid, scope, seq)
  ), locked AS (
    SELECT t.id, t.buyer_account_id FROM buyer_targets t WHERE t.id IN (SELECT id FROM u) ORDER BY t.id FOR NO KEY UPDATE
  ), allowed AS (
    SELECT u.id, u.bid, u.seq FROM u JOIN locked l USING (id) WHERE u.scope IS NULL OR u.scope = l.buyer_account_id
  ), winners AS (
    SELECT DISTINCT ON (id) id, bid FROM allowed ORDER BY id, seq DESC
  ), written AS (
    UPDATE buyer_targets t SET bid_cents = w.bid, bid_version = t.bid_version + 1, updated_at = now() FROM winners w WHERE t.id = w.id
    RETURNING t.id, t.bid_version
  )
  SELECT a.seq, w.bid_version::text AS version FROM allowed a JOIN written w USING (id)`;

export class BidWriter {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  /** Written batches whose answers wait for their bids to be in this node's snapshot. */
  private readonly answering = new Set<Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly opts: {
      /** Puts committed bids into this node's snapshot; the batches are answered once it resolves. */
      applyLocally?: (bids: ReadonlyMap<string, WrittenBid>) => Promise<void>;
      logger?: Logger;
    } = {},
  ) {}

  /** Queues a batch; resolves with one result per update, in order, once its statement committed and was applied here. */
  submit(principal: ApiPrincipal, updates: readonly BidUpdate[]): Promise<BidResult[]> {
    if (updates.length === 0) return Promise.resolve([]);
    const firsts = new Map<string, number>();
    updates.forEach((u, i) => {
      if (!firsts.has(u.targetId)) firsts.set(u.targetId, i);
    });
    const scope = principal.role === 'admin' ? null : (principal.accountId ?? '');
    return new Promise<BidResult[]>((resolve, reject) => {
      this.queue.push({ scope, updates, firsts, resolve, reject });
      this.writing ??= this.loop();
    });
  }

  /** Resolves when every batch queued so far has been answered (node.stop() calls it once nothing new arrives). */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
    await Promise.all(this.answering);
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let n = 0;
        let size = 0;
        while (n < this.queue.length && (n === 0 || size + this.queue[n]!.updates.length <= MERGED_MAX)) size += this.queue[n++]!.updates.length;
        const group = this.queue.splice(0, n);
        await this.write(group);
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(group: Pending[]): Promise<void> {
    const ids: string[] = [];
    const bids: number[] = [];
    const scopes: (string | null)[] = [];
    for (const p of group) {
      p.updates.forEach((u, i) => {
        if (p.firsts.get(u.targetId) !== i) return;
        ids.push(u.targetId);
        bids.push(u.bidCents);
        scopes.push(p.scope);
      });
    }
    const seqs = ids.map((_, i) => i);
    const allowed = new Uint8Array(ids.length);
    const versions = new Map<string, number>();
    try {
      const { rows } = await this.pool.query<{ seq: number; version: string }>(MERGED_SQL, [ids, bids, scopes, seqs]);
      for (const r of rows) {
        allowed[r.seq] = 1;
        versions.set(ids[r.seq]!, Number(r.version));
      }
    } catch (err) {
      for (const p of group) p.reject(err as Error);
      return;
    }
    // Last authorised write per target, in arrival order: what the statement wrote.
    const written = new Map<string, WrittenBid>();
    for (let i = 0; i < ids.length; i++) if (allowed[i]) written.set(ids[i]!, { bidCents: bids[i]!, version: versions.get(ids[i]!) });
    // Not awaited here: the next statement goes out while this one's bids wait for the snapshot's rebuild.
    const inEffect = (this.opts.applyLocally?.(written) ?? Promise.resolve()).catch((err: Error) => {
      this.opts.logger?.error({ err: err.message, targets: written.size }, "bids committed but not applied to this node's snapshot; their message or the next reload brings them");
    });
    try {
      await publishBids(this.redis, this.redisPrefix, written);
    } catch (err) {
      this.opts.logger?.error({ err: (err as Error).message, targets: written.size }, 'bids committed but not published to the other nodes; they take them at their next snapshot reload');
    }
    let seq = 0;
    const answers = group.map((p) =>
      p.updates.map((u, i): BidResult => {
        if (p.firsts.get(u.targetId) !== i) return { targetId: u.targetId, ok: false, error: 'duplicate_in_batch' };
        return allowed[seq++] ? { targetId: u.targetId, ok: true, bidCents: u.bidCents } : { targetId: u.targetId, ok: false, error: 'not_found' };
      }),
    );
    const answered = inEffect.then(() => group.forEach((p, i) => p.resolve(answers[i]!)));
    this.answering.add(answered);
    void answered.finally(() => this.answering.delete(answered));
  }
}
