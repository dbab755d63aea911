/**
 * The outbound socket server: FreeSWITCH's `socket <host>:<port> async full` connects here once per call.
 * Each connection is handshaken (connect, linger, a filter on its own uuid, the few events the leg reads) and
 * handed to the pipeline as a CallLeg. A connection that misbehaves is closed on its own; the others go on.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { lazyChild, type Logger } from '../../observability/logger';
import type { InboundCallHandler } from '../port';
import { FreeSwitchCallLeg, type LegSettings } from './call-leg';
import { ChannelCallIds } from '../channel-call-ids';
import { callInfoFromChannelData } from './channel-data';
import { CALL_EVENTS, EslSocket } from './esl-socket';
import type { EslHeaders } from './headers';

export class OutboundSocketServer {
  private server: Server | undefined;
  private readonly sockets = new Set<EslSocket>();
  private readonly legs = new Map<EslSocket, FreeSwitchCallLeg>();
  /** The same legs by channel uuid. */
  private readonly legsByUuid = new Map<string, FreeSwitchCallLeg>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly listenOn: { host: string; port: number },
    private readonly settings: LegSettings,
    private readonly log: Logger,
  ) {}

  async start(handler: InboundCallHandler): Promise<AddressInfo> {
    const server = createServer({ noDelay: true, keepAlive: true }, (socket) => this.accept(socket, handler));
    server.on('error', (err) => this.log.error({ err }, 'outbound socket server error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenOn.port, this.listenOn.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // One timer for all connections: close those stuck in the middle of a frame.
    const stallMs = this.settings.timeouts.stallMs;
    this.sweep = setInterval(() => {
      for (const s of this.sockets) s.checkStall(stallMs);
    }, Math.min(1000, stallMs));
    this.sweep.unref();
    const address = server.address() as AddressInfo;
    this.log.info({ host: address.address, port: address.port }, 'outbound socket server listening');
    return address;
  }

  /**
   * For a channel driven over this server: the call id it carries, or NOT_OURS while it carries none (only its
   * leg sets one). Undefined for any other channel.
   */
  callIdOf(uuid: string): string | undefined {
    const leg = this.legsByUuid.get(uuid);
    return leg === undefined ? undefined : (leg.taggedCallId ?? ChannelCallIds.NOT_OURS);
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket, handler: InboundCallHandler): void {
    const conn = new EslSocket(socket, this.log);
    this.sockets.add(conn);
    conn.onClose(() => this.sockets.delete(conn));
    void this.handshake(conn).then(
      (ready) => {
        if (ready) this.handOver(conn, ready, handler);
      },
      (err: Error) => {
        if (!conn.isClosed) conn.close(`handshake failed: ${err.message}`);
        else this.log.info({ remote: conn.remote, err: err.message }, 'call gone before the handshake finished');
      },
    );
  }

  /**
   * `connect` and `linger` first; once the channel's uuid is known, the filter and then the event subscription,
   * pipelined: four commands in all. The filter must be in place before `event` is sent: until then the listener
   * would receive every channel's events (fact 5). `linger` keeps the socket open after the hangup, so the end
   * (the `socket` application's EXECUTE_COMPLETE) always arrives; without it FreeSWITCH may close before
   * delivering it (fact 6). The call is handed over as soon as the channel data is in: FreeSWITCH runs a
   * connection's commands in order, so whatever the pipeline sends next (answer, bridge) runs after the
   * subscription, and the routing decision does not wait for the subscription's round trip. `subscribed` fails if
   * any of it is refused.
   */
  private async handshake(conn: EslSocket) {
    const ms = this.settings.timeouts.handshakeMs;
    const connect = conn.command('connect', {}, ms);
    const linger = conn.command('linger', {}, ms);
    // If connect fails first this is never awaited; mark it handled.
    linger.catch(() => undefined);
    const reply = await connect;
    const data = reply.data;
    const uuid = data?.get('Unique-ID');
    if (!data || !uuid) {
      conn.close('connect reply without channel data (no Unique-ID)');
      return undefined;
    }
    const filter = conn.command(`filter Unique-ID ${uuid}`, {}, ms);
    const events = conn.command(`event json ${CALL_EVENTS.join(' ')}`, {}, ms);
    const subscribed = Promise.all([linger, filter, events]).then(() => undefined);
    return { data, uuid, subscribed };
  }

  private handOver(conn: EslSocket, ready: { data: EslHeaders; uuid: string; subscribed: Promise<void> }, handler: InboundCallHandler): void {
    // Made on its first line at an enabled level: most calls log nothing at info or above.
    const log = lazyChild(this.log, { call: ready.uuid });
    conn.setLogger(log);
    // Without the subscription the leg would never learn how its bridge ended: give the call up (the leg records it).
    ready.subscribed.catch((err: Error) => {
      if (!conn.isClosed) conn.close(`event subscription failed: ${err.message}`);
    });
    const info = callInfoFromChannelData(ready.data);
    const leg = new FreeSwitchCallLeg(ready.uuid, conn, this.settings, log, ready.data);
    this.legs.set(conn, leg);
    this.legsByUuid.set(ready.uuid, leg);
    conn.onClose(() => {
      this.legs.delete(conn);
      if (this.legsByUuid.get(ready.uuid) === leg) this.legsByUuid.delete(ready.uuid);
    });
    conn.onEvent((name, h) => leg.handleEvent(name, h));
    conn.onNotice((disposition) => log.debug({ disposition }, 'disconnect notice'));
    conn.onClose((reason) => leg.handleClosed(reason));
    log.debug({ ani: info.ani, dnis: info.dnis, direction: info.direction }, 'call handed to the pipeline');
    try {
      handler(leg, info);
    } catch (err) {
      log.error({ err }, 'call handler threw; hanging up');
      void leg.hangup('NORMAL_TEMPORARY_FAILURE');
    }
  }

  /**
   * Graceful stop, first step: no new call is accepted (the listener closes, so `socket` fails to connect and the
   * dialplan falls back). Calls in progress go on. Resolves when the listener is closed.
   */
  stopAccepting(): void {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // close() stops new connections at once; its callback waits for the open ones, so it is not awaited here.
    server.close();
  }

  /**
   * Graceful stop, last step, after the drain: bridged calls are left on the switch (their sockets close, which
   * does not end them; their legs report no end); calls still in setup get `exit`, so FreeSWITCH runs the dialplan
   * after `socket`: the fallback, on purpose. A bridge still ringing counts as setup.
   */
  release(): { leftOnSwitch: number; toFallback: number } {
    clearInterval(this.sweep);
    let leftOnSwitch = 0;
    let toFallback = 0;
    for (const conn of this.sockets) {
      const leg = this.legs.get(conn);
      if (leg?.talking) {
        leg.leaveOnSwitch();
        leftOnSwitch++;
      } else {
        leg?.handToFallback();
        toFallback++;
      }
      conn.exit(this.settings.timeouts.commandMs);
    }
    return { leftOnSwitch, toFallback };
  }
}
