/**
 * The FreeSWITCH switch adapter: the outbound socket server for calls the dialplan hands over, and one inbound
 * ESL connection for placing calls (`bgapi originate ... &socket(...)`). Answered originated calls come back
 * through the outbound server, where their callx_* channel variables mark them as outbound.
 */
import type { Logger } from '../../observability/logger';
import type { InboundCallHandler, OriginateRequest, OriginateResult, SwitchAdapter } from '../port';
import { DEFAULT_TIMEOUTS, socketAddressFor, type FreeSwitchAdapterConfig, type FreeSwitchTimeouts } from './config';
import { originateCommand } from './dial-string';
import { InboundEslClient, InboundNotConnectedError } from './inbound-client';
import { OutboundSocketServer } from './outbound-server';

export class FreeSwitchAdapter implements SwitchAdapter {
  readonly name = 'freeswitch';
  private readonly log: Logger;
  private readonly timeouts: FreeSwitchTimeouts;
  private readonly server: OutboundSocketServer;
  private readonly inbound: InboundEslClient;
  private listeningPort = 0;

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
    this.inbound = new InboundEslClient(cfg.inbound, this.timeouts, this.log.child({ part: 'inbound' }));
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

  async stop(): Promise<void> {
    await this.inbound.stop();
    await this.server.stop();
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
