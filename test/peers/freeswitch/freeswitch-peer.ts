/**
 * A FreeSWITCH stand-in speaking real ESL: it places calls to the app's outbound socket server (as the dialplan's
 * `socket` application would), serves an inbound ESL endpoint, and plays scripted buyers and consumers.
 *
 *   const peer = new FreeSwitchPeer();
 *   peer.buyers.set('sip:buyer1@10.0.0.5', { kind: 'busy' });
 *   const call = peer.placeCall({ app: { host, port }, ani: '+12025550123', dnis: '+18005550100' });
 *   const record = await call.finished;
 */
import { callerChannel, markSocketApplication, type CallerChannelOptions } from './caller-channel';
import type { PeerChannel } from './channel';
import { PeerCore, type PeerOptions } from './core';
import { InboundServer } from './inbound';
import { CallSession, type SessionScript } from './session';

export interface PlaceCallOptions extends CallerChannelOptions, SessionScript {
  /** Where the app's outbound socket server listens (one host, or several tried in turn). */
  app: { host: string; port: number } | Array<{ host: string; port: number }>;
  /** Socket mode words after the address (default `async full`). */
  socketMode?: string;
}

export class FreeSwitchPeer {
  readonly core: PeerCore;
  readonly inbound: InboundServer;
  private readonly sessions = new Set<CallSession>();
  /** Every session started, in order (kept unless the peer runs with `record: false`). */
  readonly history: CallSession[] = [];

  constructor(options: PeerOptions & { password?: string } = {}) {
    this.core = new PeerCore(options);
    this.inbound = new InboundServer(this.core, { password: options.password });
    this.core.startSocketSession = (channel, target, script) => this.startSession(channel, target, script);
  }

  get buyers() {
    return this.core.buyers;
  }

  get consumers() {
    return this.core.consumers;
  }

  /** Prompt file -> playback duration in ms (-1: file not found). */
  get prompts() {
    return this.core.prompts;
  }

  /** Starts the inbound ESL endpoint; returns its port. */
  async listenInbound(port = 0, host = '127.0.0.1'): Promise<number> {
    return (await this.inbound.listen(port, host)).port;
  }

  /** A carrier call reaches the dialplan, which hands it to the app with `socket <app> async full`. */
  placeCall(opts: PlaceCallOptions): CallSession {
    const apps = Array.isArray(opts.app) ? opts.app : [opts.app];
    const target = `${apps.map((a) => `${a.host}:${a.port}`).join('|')} ${opts.socketMode ?? 'async full'}`;
    const admitted = this.core.admitSession();
    const channel = callerChannel(opts, this.core.detail, target);
    if (!admitted) {
      const refused = new CallSession(this.core, channel, target, opts);
      if (this.core.options.record !== false) this.history.push(refused);
      refused.refuseInvite();
      return refused;
    }
    return this.startSession(channel, target, opts);
  }

  /** Live sessions (calls under socket control). */
  get liveSessions(): ReadonlySet<CallSession> {
    return this.sessions;
  }

  private startSession(channel: PeerChannel, target: string, script: SessionScript): CallSession {
    if (channel.getVar('current_application') !== 'socket') markSocketApplication(channel, target);
    const session = new CallSession(this.core, channel, target, script);
    this.sessions.add(session);
    if (this.core.options.record !== false) this.history.push(session);
    void session.finished.then(() => this.sessions.delete(session));
    session.start();
    return session;
  }

  /** The session controlling a channel (for legs started by `originate ... &socket(...)`). */
  findSession(uuid: string): CallSession | undefined {
    return this.history.find((s) => s.channel.uuid === uuid);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    await this.inbound.close();
  }
}
