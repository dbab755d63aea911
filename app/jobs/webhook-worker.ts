/**
 * The webhook worker: turns call events into signed deliveries and sends them.
 *
 * - `fanout` jobs (enqueued by the recorder from committed journal entries): for each event, the receivers are the
 *   winning buyer and the call's seller, each only through its active endpoints subscribed to that event. Each
 *   receiver's body is its own view of the call (projectWebhookCall), written once per (event, endpoint) with the
 *   event's id, then a `deliver` job is added per row.
 * - `deliver` jobs: POST the stored body to the endpoint, signed at send time with the account's current secret, and
 *   its previous one while a rotation keeps it (`X-Callx-Signature: t=..,v1=..`, see app/domain/webhook-signature.ts). A 2xx answer delivers it; anything else
 *   (another status, a timeout, a refused connection, a redirect, an address that is not public unless
 *   WEBHOOK_ALLOW_PRIVATE_ADDRESSES) fails the attempt, which BullMQ retries with
 *   exponential backoff; after the last attempt the row is `dead` (the dead letter the API lists and redelivers).
 * - with `retention`, deliveries done with and past WEBHOOK_DELIVERY_RETENTION_DAYS are deleted now and then (see
 *   WebhookDeliveryPruner): whichever process sends webhooks keeps the table bounded.
 */
import { Worker, type Job } from 'bullmq';
import type { Pool } from 'pg';
import type { Logger } from '../observability/logger';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader, webhookEventId } from '../domain/webhook-signature';
import { projectWebhookCall, type Viewer } from '../api/projections';
import type { SecretBox } from '../util/secret-box';
import { WebhookHttp } from './webhook-http';
import { WebhookDeliveryPruner, type DeliveryRetention } from './webhook-delivery-pruner';
import {
  deliveryToSend, insertDeliveries, recordDeliveryAttempt, subscribedEndpoints, type NewDelivery,
} from '../store/webhook-repo';
import { WEBHOOK_QUEUE, bullConnection, bullPrefix, enqueueDeliveries, webhookQueue, type QueueSettings, type WebhookItem, type WebhookRetry } from './queues';

export interface WebhookWorkerOptions extends QueueSettings {
  retry: WebhookRetry;
  /** how long a receiver may take to answer one POST */
  timeoutMs: number;
  /** deliver to loopback and private addresses too (WEBHOOK_ALLOW_PRIVATE_ADDRESSES; tests) */
  allowPrivate: boolean;
  concurrency?: number;
  box: SecretBox;
  clock?: () => Date;
  /** deletes old deliveries now and then (none without it: benches, tests of delivery) */
  retention?: DeliveryRetention;
}

type CallRow = {
  id: string; direction: string; ani: string; dnis: string; campaign_id: string | null; seller_account_id: string | null; started_at: Date;
  bridged_at: Date | null; ended_at: Date | null; duration_sec: number | null; billable_sec: number | null; outcome: string | null;
  end_reason: string | null; hangup_cause: string | null; hung_up_by: string | null; winner_buyer_id: string | null;
  winner_target_id: string | null; price_cents: number | null; end_is_lower_bound: boolean; sees_buyer_details: boolean | null;
};

export class WebhookWorker {
  private worker: Worker | undefined;
  private readonly queue: ReturnType<typeof webhookQueue>;
  private readonly http: WebhookHttp;
  private readonly pruner: WebhookDeliveryPruner | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly opts: WebhookWorkerOptions,
  ) {
    this.queue = webhookQueue(opts);
    this.http = new WebhookHttp({ timeoutMs: opts.timeoutMs, allowPrivate: opts.allowPrivate });
    this.pruner = opts.retention ? new WebhookDeliveryPruner(pool, log.child({ part: 'prune' }), opts.retention) : undefined;
  }

  start(): void {
    this.worker = new Worker(WEBHOOK_QUEUE, (job: Job) => (job.name === 'fanout' ? this.fanOut(job.data.items as WebhookItem[]) : this.deliver(job)), {
      connection: bullConnection(this.opts),
      prefix: bullPrefix(this.opts),
      concurrency: this.opts.concurrency ?? 20,
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'webhook worker error'));
    // A delivery's failures are in its row (and the dead one is logged in deliver); a fan-out's only here.
    this.worker.on('failed', (job, err) => {
      if (job?.name === 'fanout') this.log.warn({ job: job.id, events: (job.data.items as unknown[]).length, attempt: job.attemptsMade, err: err.message }, 'webhook fan-out failed; it will be retried');
    });
    this.pruner?.start();
  }

  async stop(): Promise<void> {
    await this.pruner?.stop();
    await this.worker?.close();
    await this.queue.close();
    this.http.close();
  }

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  /** Deliveries for a batch of events; the job fails (and is retried whole, harmlessly) if a call is not recorded yet. */
  async fanOut(items: readonly WebhookItem[]): Promise<void> {
    const calls = await this.loadCalls([...new Set(items.map((i) => i.callId))]);
    const missing: string[] = [];
    const wanted: Array<{ item: WebhookItem; call: CallRow; receivers: string[] }> = [];
    for (const item of items) {
      const call = calls.get(item.callId);
      // The decision (campaign, seller) and, for an end, the end itself must be in the record first.
      if (!call || !call.seller_account_id || (item.event === 'call.ended' && !call.ended_at)) {
        missing.push(item.callId);
        continue;
      }
      const buyer = item.event === 'call.bridged' ? item.buyerAccountId : call.winner_buyer_id;
      wanted.push({ item, call, receivers: [...new Set([buyer, call.seller_account_id].filter((a): a is string => !!a))] });
    }
    const deliveries: NewDelivery[] = [];
    for (const event of ['call.bridged', 'call.ended'] as const) {
      const ofEvent = wanted.filter((w) => w.item.event === event);
      const endpoints = await subscribedEndpoints(this.pool, [...new Set(ofEvent.flatMap((w) => w.receivers))], event);
      if (endpoints.length === 0) continue;
      for (const { item, call, receivers } of ofEvent) {
        const eventId = webhookEventId(item.callId, event);
        const bodies = new Map<string, string>();
        for (const ep of endpoints) {
          if (!receivers.includes(ep.accountId)) continue;
          let body = bodies.get(ep.accountId);
          if (body === undefined) bodies.set(ep.accountId, (body = this.body(eventId, item, call, ep.accountId)));
          deliveries.push({ eventId, eventType: event, callId: item.callId, accountId: ep.accountId, endpointId: ep.id, url: ep.url, body });
        }
      }
    }
    const toSend = await insertDeliveries(this.pool, deliveries);
    await enqueueDeliveries(this.queue, toSend, this.opts.retry);
    if (missing.length > 0) throw new Error(`${missing.length} of ${items.length} calls not recorded yet: ${missing.slice(0, 3).join(', ')}`);
  }

  /** The JSON a receiver gets: the event's id, type and time, and the call as that account may see it. */
  private body(eventId: string, item: WebhookItem, call: CallRow, accountId: string): string {
    const viewer: Viewer = accountId === call.seller_account_id
      ? { role: 'seller', accountId, seesBuyerDetails: call.sees_buyer_details === true }
      : { role: 'buyer', accountId };
    // The call resource's field names (app/api/resources.ts CALL_COLUMNS), which projectCallRow works on.
    const common = {
      id: call.id, direction: call.direction, ani: call.ani, dnis: call.dnis, campaignId: call.campaign_id,
      sellerAccountId: call.seller_account_id, startedAt: call.started_at.toISOString(),
    };
    // A bridge: what is known at that moment (its buyer and price from the bridged attempt). An end: the record.
    const row = item.event === 'call.bridged'
      ? { ...common, bridgedAt: item.at, winnerBuyerId: item.buyerAccountId, winnerTargetId: item.targetId, priceCents: item.priceCents ?? null }
      : {
          ...common, outcome: call.outcome, endReason: call.end_reason, bridgedAt: call.bridged_at?.toISOString() ?? null, endedAt: call.ended_at!.toISOString(),
          durationSec: call.duration_sec, billableSec: call.billable_sec, hangupCause: call.hangup_cause, hungUpBy: call.hung_up_by,
          endIsLowerBound: call.end_is_lower_bound, winnerBuyerId: call.winner_buyer_id, winnerTargetId: call.winner_target_id, priceCents: call.price_cents,
        };
    const occurredAt = item.event === 'call.bridged' ? item.at : call.ended_at!.toISOString();
    return JSON.stringify({ id: eventId, type: item.event, occurredAt, data: { call: projectWebhookCall(row, viewer) } });
  }

  private async loadCalls(ids: string[]): Promise<Map<string, CallRow>> {
    const { rows } = await this.pool.query<CallRow>(
      `SELECT c.id, c.direction, c.ani, c.dnis, c.campaign_id, c.seller_account_id, c.started_at, c.bridged_at, c.ended_at, c.duration_sec,
         c.billable_sec, c.outcome, c.end_reason, c.hangup_cause, c.hung_up_by, c.winner_buyer_id, c.winner_target_id,
         c.price_cents::float8 AS price_cents, c.end_is_lower_bound, a.sees_buyer_details
       FROM calls c LEFT JOIN accounts a ON a.id = c.seller_account_id WHERE c.id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** One attempt of one delivery. */
  async deliver(job: Job): Promise<void> {
    const now = this.now();
    const d = await deliveryToSend(this.pool, this.opts.box, String(job.data.deliveryId), now);
    if (!d || d.status === 'delivered') return;
    const attemptNo = job.attemptsMade + 1;
    const last = attemptNo >= (job.opts.attempts ?? 1);
    const secrets = d.secrets;
    let failure: { httpStatus?: number; error: string } | undefined;
    if (secrets.length === 0) failure = { error: 'the account has no webhook secret' };
    else {
      try {
        const status = await this.http.post(d.url, {
          'content-type': 'application/json',
          'user-agent': 'callx-webhooks/1',
          [EVENT_ID_HEADER]: d.eventId,
          [EVENT_TYPE_HEADER]: d.eventType,
          [SIGNATURE_HEADER]: signatureHeader(secrets, Math.floor(now.getTime() / 1000), d.body),
        }, d.body);
        if (status < 200 || status >= 300) failure = { httpStatus: status, error: `HTTP ${status}` };
      } catch (err) {
        const e = err as Error & { code?: string };
        failure = { error: e.code === 'ETIMEDOUT' || e.code === 'ENOTPUBLIC' ? e.message : (e.code ?? e.message) };
      }
    }
    const at = this.now();
    if (!failure) {
      await recordDeliveryAttempt(this.pool, d.id, { status: 'delivered', at });
      return;
    }
    await recordDeliveryAttempt(this.pool, d.id, { status: last ? 'dead' : 'retrying', httpStatus: failure.httpStatus, error: failure.error, at });
    if (last) this.log.warn({ delivery: d.id, eventId: d.eventId, accountId: d.accountId, attempts: attemptNo, err: failure.error }, 'webhook delivery is dead after its last attempt');
    throw new Error(failure.error);
  }
}
