/**
 * The FreeSWITCH switch adapter: the outbound socket server for calls the dialplan hands over, and one inbound
 * ESL connection for placing calls (`bgapi originate ... &socket(...)`), for listing and adopting calls in
 * progress, and for following adopted calls' events. Answered originated calls come back through the outbound
 * server, where their callx_* channel variables mark them as outbound.
 */
import type { Logger } from '../../observability/logger';
import type { CallInProgress, CallLeg, InboundCallHandler, OriginateRequest, OriginateResult, SwitchAdapter } from '../port';
import { AdoptedCallLeg } from './adopted-leg';
import { ChannelCallIds } from '../channel-call-ids';
import { SAFE_UUID, listCallsInProgress } from './calls-in-progress';
import { DEFAULT_TIMEOUTS, socketAddressFor, type FreeSwitchAdapterConfig, type FreeSwitchTimeouts } from './config';
import { originateCommand } from './dial-string';
import { InboundApiError, InboundEslClient, InboundNotConnectedError } from './inbound-client';
import { OutboundSocketServer } from './outbound-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isGone = (err: unknown): boolean => err instanceof InboundApiError && /no such channel/i.test(err.message);

export class FreeSwitchAdapter implements SwitchAdapter {
  readonly name = 'freeswitch';
  private readonly log: Logger;
  private readonly timeouts: FreeSwitchTimeouts;
  private readonly server: OutboundSocketServer;
  private readonly inbound: InboundEslClient;
  private listeningPort = 0;
  /** Adopted calls by caller uuid, followed over the inbound connection until they end. */
  private readonly adopted = new Map<string, AdoptedCallLeg>();
  /** Call ids of the channels listed so far: this node's own from their legs, the others' asked once each. */
  private readonly callIds: ChannelCallIds;
  private stopping = false;

  constructor(private readonly cfg: FreeSwitchAdapterConfig) {
    this.log = cfg.logger.child({ mod: 'freeswitch' });
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...cfg.timeouts };
    this.server = new OutboundSocketServer(
      cfg.outboundListen,
      {
        timeouts: this.timeouts,
        dial: { sofiaProfile: cfg.sofiaProfile, ...(cfg.buyerGateway ? { buyerGateway: cfg.buyerGateway } : {}) },
        prompts: cfg.prompts,
      },
      this.log.child({ part: 'outbound' }),
    );
    this.callIds = new ChannelCallIds((uuid) => this.server.callIdOf(uuid));
    this.inbound = new InboundEslClient(cfg.inbound, this.timeouts, this.log.child({ part: 'inbound' }));
    this.inbound.onEvent((name, h) => {
      const uuid = h.get('Unique-ID');
      const leg = uuid === undefined ? undefined : this.adopted.get(uuid);
      if (!leg || uuid === undefined) return;
      leg.handleEvent(name, h);
      if (leg.ended) this.forget(uuid);
    });
    // Events of adopted calls may have been missed while the connection was down: ask for each one again.
    this.inbound.onConnected(() => void this.recheckAdopted());
  }

  /** The port the outbound socket server listens on (known after start; useful with port 0). */
  get port(): number {
    return this.listeningPort;
  }

  async start(onInboundCall: InboundCallHandler): Promise<void> {
    const address = await this.server.start(onInboundCall);
    this.listeningPort = address.port;
    this.inbound.start();
  }

  /**
   * Graceful stop (see the port): new calls are refused at once (the listener closes, `socket` fails to connect
   * and the dialplan falls back); calls in progress, ours and adopted, go on with their events for up to
   * `stopDrainMs`; then bridged calls are left on the switch, untouched and with no end reported (another node,
   * or this one restarted, adopts them), and calls still in setup get `exit`, which hands them to the fallback.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.server.stopAccepting();
    const deadline = Date.now() + this.timeouts.stopDrainMs;
    while ((this.server.connectionCount > 0 || this.adopted.size > 0) && Date.now() < deadline) await sleep(50);
    const released = this.server.release();
    for (const leg of this.adopted.values()) leg.release();
    const adoptedLeft = this.adopted.size;
    this.adopted.clear();
    if (released.leftOnSwitch + released.toFallback + adoptedLeft > 0) {
      this.log.warn({ ...released, adoptedLeft, drainMs: this.timeouts.stopDrainMs }, 'stopping: bridged calls left on the switch, calls in setup handed to the fallback');
    }
    await this.inbound.stop();
  }

  /**
   * Every call in progress on the switch that carries an exchange call id: `show channels`, then `uuid_getvar` for
   * each caller leg whose id is not known yet (see ChannelCallIds).
   */
  async callsInProgress(): Promise<CallInProgress[]> {
    return listCallsInProgress((command) => this.inbound.api(command, this.timeouts.commandMs), isGone, this.callIds);
  }

  /**
   * Follows a call found by callsInProgress over the inbound connection until it ends (see AdoptedCallLeg). The
   * buyer leg is never touched. Undefined when the call is already gone.
   */
  async adopt(call: CallInProgress): Promise<CallLeg | undefined> {
    const uuid = call.switchCallId;
    if (!SAFE_UUID.test(uuid)) {
      this.log.warn({ callId: call.callId, switchCallId: uuid }, 'adopt: not a channel uuid; refused');
      return undefined;
    }
    const known = this.adopted.get(uuid);
    if (known) return known;
    const log = this.log.child({ callId: call.callId, call: uuid, adopted: true });
    const leg = new AdoptedCallLeg(uuid, async (cause) => void (await this.inbound.api(`uuid_kill ${uuid} ${cause}`, this.timeouts.commandMs)), log);
    // Registered and watched before asking, so a HANGUP_COMPLETE arriving meanwhile is not lost.
    this.adopted.set(uuid, leg);
    let exists: string;
    try {
      await this.inbound.watch(uuid);
      exists = await this.inbound.api(`uuid_exists ${uuid}`, this.timeouts.commandMs);
    } catch (err) {
      this.forget(uuid);
      throw err;
    }
    if (exists.trim() !== 'true' && !leg.ended) {
      this.forget(uuid);
      log.info('adopt: the call is already gone');
      return undefined;
    }
    log.info({ bridged: call.bridged }, 'adopted a call in progress');
    return leg;
  }

  /**
   * Nothing to do on FreeSWITCH: the dialplan sets `socket_resume=true`, so when the owner's socket closed (it
   * died, stopped or let go) `socket` returned and the dialplan's fallback already took the unbridged call. A
   * bridged call is never touched here.
   */
  async releaseToFallback(call: CallInProgress): Promise<void> {
    this.log.debug({ callId: call.callId, switchCallId: call.switchCallId }, 'releaseToFallback: socket_resume already handed the call to the fallback');
  }

  private forget(uuid: string): void {
    this.adopted.delete(uuid);
    this.inbound.unwatch(uuid);
  }

  private async recheckAdopted(): Promise<void> {
    for (const [uuid, leg] of [...this.adopted]) {
      try {
        const exists = await this.inbound.api(`uuid_exists ${uuid}`, this.timeouts.commandMs);
        if (exists.trim() !== 'true' && !leg.ended) {
          leg.goneUnseen();
          this.forget(uuid);
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message, call: uuid }, 'could not check an adopted call after reconnecting');
      }
    }
  }

  isConnected(): boolean {
    return this.inbound.isConnected();
  }

  async originate(req: OriginateRequest): Promise<OriginateResult> {
    const log = this.log.child({ callId: req.callId, campaignId: req.campaignId });
    const socketAddress = socketAddressFor(this.cfg, this.port);
    if (!socketAddress) {
      const detail = 'originateSocketAddress is not configured (the outbound server listens on a wildcard address)';
      log.error(detail);
      return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail };
    }
    const cmd = originateCommand(req, {
      sofiaProfile: this.cfg.sofiaProfile,
      ...(this.cfg.buyerGateway ? { buyerGateway: this.cfg.buyerGateway } : {}),
      ...(this.cfg.consumerGateway ? { consumerGateway: this.cfg.consumerGateway } : {}),
      socketAddress,
    });
    if (!cmd.ok) {
      log.warn({ reason: cmd.reason }, 'originate refused');
      return { status: 'failed', cause: 'INVALID_NUMBER_FORMAT', detail: cmd.reason };
    }
    if (cmd.dropped?.length) log.warn({ dropped: cmd.dropped }, 'originate: values a dial string cannot carry left off the leg');
    const timeoutMs = req.answerTimeoutSec * 1000 + this.timeouts.originateMarginMs;
    let body: string;
    try {
      body = await this.inbound.bgapi(cmd.value, timeoutMs);
    } catch (err) {
      const detail = err instanceof InboundNotConnectedError ? err.message : `originate got no result: ${(err as Error).message}`;
      log.warn({ detail }, 'originate failed');
      return { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail };
    }
    const ok = /^\+OK\s+(\S+)/.exec(body);
    if (ok) {
      log.info({ uuid: ok[1] }, 'originate answered');
      return { status: 'answered' };
    }
    const errCause = /^-ERR\s+([A-Z_]+)/.exec(body)?.[1];
    const cause = errCause ?? 'NORMAL_TEMPORARY_FAILURE';
    log.info({ cause, body: body.trim().slice(0, 120) }, 'originate not answered');
    return errCause ? { status: 'failed', cause } : { status: 'failed', cause, detail: body.trim().slice(0, 200) };
  }
}
