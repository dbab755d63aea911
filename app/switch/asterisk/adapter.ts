/**
 * The Asterisk switch adapter: a Stasis application over ARI. The dialplan sends each inbound call to
 * `Stasis(<app>)`; its StasisStart becomes a call leg handed to the pipeline. Buyer legs and consumer calls are
 * originated into the same app, marked by their Stasis args (`buyer,...` / `outbound,...`) and by our channel
 * ids, so they are never taken for inbound calls.
 *
 * Connection: the REST API (our client over node:http, or ari-client, see config `restClient`) and our own
 * events WebSocket both come back with backoff; on every (re)open the adapter reconciles with GET /channels and GET /bridges,
 * since events missed meanwhile are not replayed, and sets the app's event filter to the types it reads
 * (event-filter.ts). Calls already bridged keep going on the switch throughout.
 *
 * Calls outlive the node: every leg carries CALLX_CALL_ID, callsInProgress() lists the calls on the switch that
 * carry one, adopt() takes over a bridged one (its real end, then the buyer and bridge cleaned up), and
 * releaseToFallback() sends an unbridged one on in the dialplan. stop() leaves bridged calls on the switch.
 */
import { lazyChild, type Logger } from '../../observability/logger';
import { Backoff, sleep } from '../../util/backoff';
import { ChannelCallIds } from '../channel-call-ids';
import type { CallInProgress, CallLeg, CallInfo, InboundCallHandler, OriginateRequest, OriginateResult, SwitchAdapter } from '../port';
import { adoptCall } from './adoption';
import { isAriError } from './ari-rest';
import { listCallsInProgress, type Placement } from './calls-on-switch';
import { AriClientRest } from './ari-client-rest';
import { AriHttpRest } from './ari-http-rest';
import { eventTime, type AriChannel, type AriEvent } from './ari-model';
import type { AriRest } from './ari-rest';
import { inboundCallInfo } from './call-info';
import { AsteriskCallLeg } from './call-leg';
import { ChannelRouter } from './channel-router';
import { DEFAULT_BRIDGE_POOL_MAX, DEFAULT_TIMEOUTS, type AsteriskAdapterConfig, type AsteriskTimeouts } from './config';
import { consumerEndpoint } from './dial';
import { BridgePool } from './bridge-pool';
import { AriEventStream } from './event-stream';
import { EventFilterSetter, type EventFilterState } from './event-filter';
import { IdFactory, logCleanupError, type LegContext } from './leg-context';
import { OutboundCall } from './outbound-call';
import { reconcile } from './reconcile';

/** How the REST side is built: by default from the config's `restClient` (tests may pass their own). */
export type RestFactory = (cfg: AsteriskAdapterConfig, timeouts: AsteriskTimeouts, log: Logger) => Promise<AriRest>;

export const httpRestFactory: RestFactory = (cfg, t, log) =>
  AriHttpRest.connect({ url: cfg.url, username: cfg.username, password: cfg.password, restMs: t.restMs, connectMs: t.connectMs }, log);

export const ariClientFactory: RestFactory = (cfg, t, log) => AriClientRest.connect(cfg, t.restMs, t.connectMs, log);

const configuredFactory: RestFactory = (cfg, t, log) => (cfg.restClient === 'ari-client' ? ariClientFactory : httpRestFactory)(cfg, t, log);

/** Delays that stop() can cut short (several may run at once: connect, reconcile, the event filter). */
class Pause {
  private readonly waiting = new Map<() => void, NodeJS.Timeout>();

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.waiting.delete(wake);
        resolve();
      };
      this.waiting.set(wake, setTimeout(wake, ms));
    });
  }

  cancel(): void {
    for (const [wake, timer] of this.waiting) {
      clearTimeout(timer);
      wake();
    }
  }
}

export class AsteriskAdapter implements SwitchAdapter {
  readonly name = 'asterisk';
  private readonly log: Logger;
  private readonly timeouts: AsteriskTimeouts;
  private readonly router = new ChannelRouter();
  private readonly ids: IdFactory;
  private readonly background = new Set<Promise<unknown>>();
  private readonly pause = new Pause();
  private ctx: LegContext | undefined;
  private events: AriEventStream | undefined;
  private filter: EventFilterSetter | undefined;
  private handler: InboundCallHandler | undefined;
  private stopped = true;
  private connecting: Promise<void> | undefined;
  private reconciling = false;
  private reconcileAgain = false;
  /** Where the buyers of the calls last listed by callsInProgress() are, so adopt() need not list bridges again. */
  private placements = new Map<string, Placement>();
  /** Call ids asked for by earlier sweeps (when ari.conf lists no channelvars), by channel. */
  private readonly callIds = new ChannelCallIds();

  constructor(
    private readonly cfg: AsteriskAdapterConfig,
    private readonly restFactory: RestFactory = configuredFactory,
  ) {
    this.log = cfg.logger.child({ mod: 'asterisk', stasisApp: cfg.app });
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...cfg.timeouts };
    this.ids = new IdFactory(cfg.app);
  }

  /** Connects (REST, then events) and resolves once connected, or after `startWaitMs` while it keeps trying. */
  async start(onInboundCall: InboundCallHandler): Promise<void> {
    this.handler = onInboundCall;
    if (!this.stopped) return;
    this.stopped = false;
    this.connecting = this.connect();
    let timer: NodeJS.Timeout | undefined;
    const deadline = Date.now() + this.timeouts.startWaitMs;
    await Promise.race([this.connecting, new Promise((r) => (timer = setTimeout(r, this.timeouts.startWaitMs)))]);
    clearTimeout(timer);
    if (this.events) await this.events.waitOpen(Math.max(0, deadline - Date.now()));
    // So that the first calls already come filtered; a failing filter request is not waited for (it retries).
    if (this.events?.isOpen()) await this.filter?.firstAttempt(Math.max(0, deadline - Date.now()));
    if (!this.isConnected()) this.log.warn({ url: this.cfg.url }, 'not connected to ARI yet; retrying in the background');
  }

  /**
   * Graceful stop (the port's contract). New calls go to the dialplan fallback at once; calls in progress go on,
   * events and all, for up to `stopDrainMs`. Then calls still in setup are handed to the fallback (POST continue),
   * and bridged calls are left on the switch untouched: their legs let go without reporting an end, and the call
   * id they carry lets another node, or this one restarted, adopt them.
   */
  async stop(): Promise<void> {
    this.stopped = true; // a call arriving from now on goes to the fallback (acceptInbound)
    this.pause.cancel();
    await this.connecting;
    await this.drainCalls();
    await Promise.allSettled([...this.background]); // calls' clean-up, which may still give bridges back
    await this.ctx?.bridges.close();
    await this.events?.stop();
    this.events = undefined;
    await Promise.allSettled([...this.background]);
    this.ctx?.rest.close?.();
  }

  isConnected(): boolean {
    return this.ctx !== undefined && this.events?.isOpen() === true;
  }

  private async drainCalls(): Promise<void> {
    const deadline = Date.now() + this.timeouts.stopDrainMs;
    while (this.router.channelCount > 0 && this.isConnected() && Date.now() < deadline) await sleep(50);
    const legs = [...this.router.owners()].filter((o): o is AsteriskCallLeg => o instanceof AsteriskCallLeg && !o.ended);
    if (legs.length === 0) return;
    const bridged = legs.filter((leg) => leg.isBridged);
    const inSetup = legs.filter((leg) => !leg.isBridged);
    this.log.warn({ bridged: bridged.length, inSetup: inSetup.length, drainMs: this.timeouts.stopDrainMs, connected: this.isConnected() }, 'stopping: bridged calls stay on the switch, calls in setup go to the dialplan fallback');
    for (const leg of bridged) leg.detach();
    await Promise.allSettled(inSetup.map((leg) => leg.releaseToFallback()));
  }

  /** For metrics and tests: what the adapter tracks right now (`bridges`: in use by calls; `idleBridges`: pooled). */
  stats(): { channels: number; bridges: number; idleBridges: number; rejectedFrames: number; unreadFrames: number; connected: boolean; eventFilter: EventFilterState } {
    const idle = this.ctx?.bridges.size ?? 0;
    return {
      channels: this.router.channelCount,
      bridges: this.router.bridgeCount - idle,
      idleBridges: idle,
      rejectedFrames: this.events?.rejectedFrames ?? 0,
      unreadFrames: this.events?.unreadFrames ?? 0,
      connected: this.isConnected(),
      eventFilter: this.filter?.state ?? 'pending',
    };
  }

  // ---- calls outliving their node -------------------------------------------------------------------------

  async callsInProgress(): Promise<CallInProgress[]> {
    const ctx = this.requireContext('callsInProgress');
    const { calls, placements } = await listCallsInProgress(ctx.rest, this.cfg.app, this.ids, this.callIds);
    this.placements = placements;
    return calls;
  }

  /** Takes over a bridged call found by callsInProgress() (see adoption.ts); this node's own leg if it tracks it. */
  async adopt(call: CallInProgress): Promise<CallLeg | undefined> {
    const ctx = this.requireContext('adopt');
    const tracked = this.router.ownerOf(call.switchCallId);
    if (tracked instanceof AsteriskCallLeg) return tracked.ended ? undefined : tracked;
    const placement = this.placements.get(call.switchCallId);
    this.placements.delete(call.switchCallId);
    return adoptCall(ctx, call, placement, this.log.child({ channel: call.switchCallId, callId: call.callId, adopted: true }));
  }

  /**
   * Sends an unbridged call with a dead owner on in the dialplan (its fallback); a consumer leg we originated has
   * no dialplan and is hung up. Never touches a bridged call.
   */
  async releaseToFallback(call: CallInProgress): Promise<void> {
    const ctx = this.requireContext('releaseToFallback');
    const log = this.log.child({ channel: call.switchCallId, callId: call.callId });
    if (call.bridged) {
      log.error('releaseToFallback: refused for a bridged call');
      return;
    }
    const tracked = this.router.ownerOf(call.switchCallId);
    if (tracked instanceof AsteriskCallLeg) {
      await tracked.releaseToFallback();
      return;
    }
    try {
      if (this.ids.isOurs(call.switchCallId)) {
        // A consumer we called (originated into Stasis): no dialplan behind it to fall back to.
        await ctx.rest.hangup(call.switchCallId, 'NORMAL_TEMPORARY_FAILURE');
        log.info('hung up a consumer call in setup whose node is gone (no dialplan fallback for it)');
        return;
      }
      await ctx.rest.continueInDialplan(call.switchCallId);
      log.info('handed a call in setup to the dialplan fallback');
    } catch (err) {
      if (isAriError(err, 'not_found', 'not_in_stasis')) return; // gone, or already out of Stasis
      log.error({ err: (err as Error).message }, 'releaseToFallback: continue failed');
      throw err;
    }
  }

  private requireContext(what: string): LegContext {
    if (!this.ctx) throw new Error(`${what}: not connected to ARI`);
    return this.ctx;
  }

  async originate(req: OriginateRequest): Promise<OriginateResult> {
    const ctx = this.ctx;
    const log = this.log.child({ callId: req.callId, campaignId: req.campaignId });
    if (!ctx || !this.isConnected()) {
      log.warn('originate refused: not connected to the switch');
      return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: 'not connected to the switch' };
    }
    const endpoint = consumerEndpoint(req.to, this.cfg.consumerTrunk ?? this.cfg.buyerTrunk);
    if (!endpoint.ok) {
      log.warn({ reason: endpoint.reason }, 'originate refused');
      return { status: 'failed', cause: 'INVALID_NUMBER_FORMAT', detail: endpoint.reason };
    }
    return new OutboundCall(ctx, req, endpoint.value, (leg, info) => this.handOver(leg, info), log).run();
  }

  // ---- connection --------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const backoff = new Backoff({ initialMs: this.timeouts.reconnectInitialMs, maxMs: this.timeouts.reconnectMaxMs });
    let rest: AriRest | undefined;
    while (!this.stopped && !rest) {
      try {
        rest = await this.restFactory(this.cfg, this.timeouts, this.log);
      } catch (err) {
        const delay = backoff.next();
        this.log.warn({ url: this.cfg.url, err: (err as Error).message, retryInMs: delay }, 'could not load the ARI API; retrying');
        await this.pause.wait(delay);
      }
    }
    if (this.stopped || !rest) return;
    this.ctx = {
      rest,
      router: this.router,
      ids: this.ids,
      app: this.cfg.app,
      timeouts: this.timeouts,
      buyerTrunk: this.cfg.buyerTrunk,
      prompts: this.cfg.prompts,
      bridges: new BridgePool(rest, this.router, this.cfg.bridgePoolMax ?? DEFAULT_BRIDGE_POOL_MAX, (work) => this.track(work), this.log.child({ part: 'bridges' }), this.timeouts.bridgeLingerMs),
      track: (work) => this.track(work),
    };
    this.filter = new EventFilterSetter({
      rest,
      app: this.cfg.app,
      url: this.cfg.url,
      isOpen: () => !this.stopped && this.events?.isOpen() === true,
      wait: (ms) => this.pause.wait(ms),
      track: (work) => this.track(work),
      backoff: { initialMs: this.timeouts.reconnectInitialMs, maxMs: this.timeouts.reconnectMaxMs },
      log: this.log.child({ part: 'event-filter' }),
    });
    this.events = new AriEventStream(
      {
        url: this.cfg.url,
        app: this.cfg.app,
        username: this.cfg.username,
        password: this.cfg.password,
        handshakeMs: this.timeouts.handshakeMs,
        pingIntervalMs: this.timeouts.pingIntervalMs,
        pongTimeoutMs: this.timeouts.pongTimeoutMs,
        reconnectInitialMs: this.timeouts.reconnectInitialMs,
        reconnectMaxMs: this.timeouts.reconnectMaxMs,
      },
      {
        onEvent: (ev) => this.onEvent(ev),
        onOpen: () => {
          this.filter?.onOpen();
          this.scheduleReconcile();
        },
        onClose: () => this.log.warn({ tracked: this.router.channelCount }, 'events socket lost; calls in progress go on on the switch'),
      },
      this.log.child({ part: 'events' }),
    );
    this.events.start();
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'background work failed'));
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Reconciles after each (re)open; retried with backoff while the socket is up; never two at once. */
  private scheduleReconcile(): void {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    const ctx = this.ctx;
    if (!ctx) return;
    this.reconciling = true;
    const run = async (): Promise<void> => {
      const backoff = new Backoff({ initialMs: this.timeouts.reconnectInitialMs, maxMs: this.timeouts.reconnectMaxMs });
      while (!this.stopped && this.events?.isOpen()) {
        try {
          const report = await reconcile({
            rest: ctx.rest,
            router: this.router,
            ids: this.ids,
            app: this.cfg.app,
            pool: ctx.bridges,
            callIds: this.callIds,
            log: this.log.child({ part: 'reconcile' }),
            adopt: (ch, args) => this.acceptInbound(ch, args, new Date()),
          });
          this.log.info(report, 'reconciled with the switch');
          break;
        } catch (err) {
          const delay = backoff.next();
          this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'reconcile failed; retrying');
          await this.pause.wait(delay);
        }
      }
      this.reconciling = false;
      if (this.reconcileAgain) {
        this.reconcileAgain = false;
        this.scheduleReconcile();
      }
    };
    this.track(run());
  }

  // ---- events ------------------------------------------------------------------------------------------------

  private onEvent(ev: AriEvent): void {
    if (ev.type === 'StasisStart') {
      this.stasisStart(ev);
      return;
    }
    if (this.router.dispatch(ev)) return;
    if (ev.type === 'ApplicationReplaced') this.log.error('another connection registered our Stasis app; events now go there');
  }

  private stasisStart(ev: AriEvent): void {
    const ch = ev.channel;
    if (!ch) return;
    const owner = this.router.ownerOf(ch.id);
    if (owner) {
      owner.onEvent(ev);
      return;
    }
    const args = ev.args ?? [];
    if (args[0] === 'buyer' || args[0] === 'outbound' || this.ids.isOurs(ch.id)) {
      // A leg we originated whose attempt already gave up: it has nobody to talk to.
      this.log.warn({ channel: ch.id, args }, 'an originated leg entered Stasis after its attempt ended; hanging it up');
      const ctx = this.ctx;
      if (ctx) this.track(ctx.rest.hangup(ch.id, 'NORMAL_CLEARING').catch((err: unknown) => logCleanupError(this.log, 'hanging up a stray leg', err)));
      return;
    }
    this.acceptInbound(ch, args, eventTime(ev));
  }

  private acceptInbound(ch: AriChannel, args: string[], at: Date): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const log = lazyChild(this.log, { channel: ch.id });
    const leg = new AsteriskCallLeg(ch.id, ctx, log, ch.state === 'Up' ? { answeredAt: at } : {});
    this.router.addChannel(ch.id, leg);
    if (!this.handler || this.stopped) {
      log.warn('a call arrived while the adapter is stopping; handing it to the dialplan fallback');
      this.track(leg.releaseToFallback());
      return;
    }
    this.handOver(leg, inboundCallInfo(ch, args));
  }

  private handOver(leg: CallLeg, info: CallInfo): void {
    try {
      this.handler?.(leg, info);
    } catch (err) {
      this.log.error({ err: (err as Error).message, channel: leg.id }, 'the call handler threw; hanging up');
      void leg.hangup('NORMAL_TEMPORARY_FAILURE');
    }
  }
}
