/**
 * Standing-bid updates, from REST or socket.io: the message shapes and results. The node's BidWriter
 * (app/store/bid-writer.ts) checks them against the caller's account, writes concurrent batches to Postgres as one
 * statement, then publishes them so every node's next auction uses them (SnapshotSource applies them without a reload).
 */
import { z } from 'zod';
import { isStorableText, NOT_STORABLE } from '../domain/text';

export const BidUpdate = z.object({ targetId: z.string().min(1).max(100).refine(isStorableText, NOT_STORABLE), bidCents: z.number().int().min(0).max(100_000_000) }).strict();
export type BidUpdate = z.infer<typeof BidUpdate>;
export const BID_BATCH_MAX = 5000;

/**
 * Why an update was not applied: no such target of the caller's account, the target named twice in one batch, the
 * bid over the account's max bid (set by the platform), or the caller's key revoked or its account paused since it
 * connected.
 */
export type BidRefusal = 'not_found' | 'duplicate_in_batch' | 'over_max_bid' | 'key_refused';
export type BidResult = { targetId: string; ok: true; bidCents: number } | { targetId: string; ok: false; error: BidRefusal };
