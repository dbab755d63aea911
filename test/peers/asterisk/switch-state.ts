/**
 * The switch's state (channels, bridges, playbacks) and the primitives every scenario uses, each emitting the
 * events Asterisk 22 emits, in its order:
 * - a hangup: ChannelHangupRequest, (PlaybackFinished), ChannelLeftBridge, (Dial final status), StasisEnd, and
 *   ChannelDestroyed only for originated channels (a dialplan channel's subscription ends at StasisEnd);
 * - bridges: ChannelEnteredBridge per channel, ChannelLeftBridge, BridgeDestroyed.
 */
import { randomUUID } from 'node:crypto';
import { causeText, rejectResponseFor } from './causes';
import type { EventHub } from './event-hub';
import { PeerBridge, PeerChannel, PeerPlayback } from './model';
import { eventJson, type ChannelJson } from './wire-format';

export interface SwitchOptions {
  /** The Stasis app inbound calls are sent to (extensions.conf `Stasis(<app>)`). */
  app: string;
  /** ari.conf `channelvars`: variables shown in every channel snapshot. */
  channelvars: string[];
  /** Emit the ChannelVarset / ChannelConnectedLine chatter of a real switch (default true; off for load runs). */
  noise: boolean;
  /** Multiplies originate timeouts (whole seconds on a real switch); < 1 makes no-answer tests quick. */
  timeScale: number;
  /** How long a prompt plays unless `prompts` says otherwise (ms). */
  playbackMs: number;
  /** PJSIP endpoints that exist (pjsip.conf); dialling another one fails with 500 Allocation failed. */
  endpoints: string[];
  /** Endpoints with pjsip.conf `send_connected_line=no`: no connected-line re-INVITE after a bridge (fact 17). */
  noConnectedLine: string[];
  asteriskId: string;
}

/** How a channel ends. */
export interface ChannelEnd {
  /** ChannelHangupRequest fields; undefined: no HangupRequest (e.g. an originate timeout). */
  request?: { cause?: number; tech_cause?: number; soft?: boolean };
  /** ChannelDestroyed cause (originated channels only). */
  cause: number;
  techCause?: number;
  /** Dial event's final status, for a channel still dialling. */
  dialStatus?: string;
  /** `fallback`: the app let the channel go on in the dialplan (POST continue), whose fallback ended it. */
  by: 'caller' | 'far_end' | 'app' | 'switch' | 'fallback';
  reason?: string;
}

export type EndListener = (ch: PeerChannel, end: ChannelEnd) => void;

export class SwitchState {
  readonly channels = new Map<string, PeerChannel>();
  readonly bridges = new Map<string, PeerBridge>();
  readonly playbacks = new Map<string, PeerPlayback>();
  readonly prompts = new Map<string, number>();
  readonly endpoints: Set<string>;
  private readonly epoch = Math.floor(Date.now() / 1000);
  private seq = 0;
  /** Told when a channel is gone (call records). */
  onChannelEnd: EndListener = () => undefined;
  /** Told when a channel entered a bridge holding two or more channels (scripted hangups after bridge). */
  onBridged: (ch: PeerChannel, bridge: PeerBridge) => void = () => undefined;

  constructor(
    readonly options: SwitchOptions,
    readonly hub: EventHub,
  ) {
    this.endpoints = new Set(options.endpoints);
  }

  nextChannelIdentity(endpoint: string): { id: string; name: string; seq: number } {
    const seq = ++this.seq;
    return { id: `${this.epoch}.${seq}`, name: `PJSIP/${endpoint}-${seq.toString(16).padStart(8, '0')}`, seq };
  }

  // ---- events ------------------------------------------------------------------------------------------------

  snapshot(ch: PeerChannel): ChannelJson {
    return ch.json(this.options.channelvars);
  }

  /** An event about a channel, sent to the app subscribed to it (if any). `key` names the channel field. */
  emitChannel(
    ch: PeerChannel,
    type: string,
    fields: Record<string, unknown> = {},
    opts: { leading?: Record<string, unknown>; key?: string; app?: string } = {},
  ): void {
    const app = opts.app ?? ch.subscribedApp;
    if (app === undefined) return;
    if (!this.hub.record && !this.hub.wants(app, type)) return; // nobody listens, or the app filters it out: skip building the JSON
    this.hub.send(
      app,
      eventJson(type, { ...fields, [opts.key ?? 'channel']: this.snapshot(ch) }, { application: app, asteriskId: this.options.asteriskId, leading: opts.leading }),
    );
  }

  emitVarset(ch: PeerChannel, variable: string, value: string): void {
    this.emitChannel(ch, 'ChannelVarset', {}, { leading: { variable, value } });
  }

  emitBridge(bridge: PeerBridge, type: string): void {
    if (!this.hub.record && !this.hub.wants(bridge.app, type)) return;
    this.hub.send(bridge.app, eventJson(type, { bridge: bridge.json() }, { application: bridge.app, asteriskId: this.options.asteriskId }));
  }

  emitPlayback(pb: PeerPlayback, type: string): void {
    if (!this.hub.record && !this.hub.wants(pb.app, type)) return;
    this.hub.send(pb.app, eventJson(type, { playback: pb.json() }, { application: pb.app, asteriskId: this.options.asteriskId }));
  }

  // ---- channels ----------------------------------------------------------------------------------------------

  setState(ch: PeerChannel, state: PeerChannel['state']): void {
    if (ch.state === state) return;
    ch.state = state;
    this.emitChannel(ch, 'ChannelStateChange');
  }

  setVar(ch: PeerChannel, name: string, value: string): void {
    ch.vars.set(name, value);
    this.emitVarset(ch, name, value);
  }

  enterStasis(ch: PeerChannel, app: string, args: string[]): void {
    ch.subscribedApp = app;
    ch.inStasis = true;
    ch.stasisArgs = args;
    ch.dialplan = { ...ch.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    // Only an originated channel is subscribed before it enters Stasis; a caller's STASISSTATUS reaches nobody.
    if (this.options.noise && ch.origin === 'originate') this.emitVarset(ch, 'STASISSTATUS', '');
    this.emitChannel(ch, 'StasisStart', { args });
  }

  /** Ends a channel with Asterisk's event sequence; does nothing if it is already ending. */
  endChannel(ch: PeerChannel, end: ChannelEnd): void {
    if (ch.hungUp) return;
    ch.hungUp = true;
    ch.clearTimers();
    if (this.options.noise && ch.state === 'Up') this.emitRtpStatistics(ch);
    if (end.request) this.emitChannel(ch, 'ChannelHangupRequest', {}, { leading: end.request });
    // The app's DELETE of a caller it never answered is a final response to the INVITE (fact 16).
    if (end.by === 'app' && ch.origin === 'dialplan' && ch.state !== 'Up') ch.respond(rejectResponseFor(end.cause));
    // A playback still running when the channel hangs up ends `failed` (fact 16).
    if (ch.playbackId) this.finishPlayback(ch.playbackId, 'failed');
    if (ch.bridgeId) this.leaveBridge(ch);
    if (ch.dialing && end.dialStatus) this.emitChannel(ch, 'Dial', { dialstatus: end.dialStatus, forward: '', dialstring: ch.dialstring }, { key: 'peer' });
    ch.dialing = false;
    if (ch.inStasis) {
      ch.inStasis = false;
      this.emitChannel(ch, 'StasisEnd');
      // A caller's subscription ends at StasisEnd; an originated channel's lasts until it is destroyed.
      if (this.options.noise && ch.origin === 'originate') this.emitVarset(ch, 'STASISSTATUS', 'SUCCESS');
    }
    if (ch.origin === 'originate') {
      ch.dialplan = { ...ch.dialplan, app_name: 'AppDial2', app_data: '(Outgoing Line)' };
      const fields: Record<string, unknown> = { cause: end.cause, cause_txt: causeText(end.cause) };
      if (end.techCause !== undefined) fields.tech_cause = end.techCause;
      this.emitChannel(ch, 'ChannelDestroyed', fields);
    }
    ch.subscribedApp = undefined;
    this.channels.delete(ch.id);
    this.onChannelEnd(ch, end);
  }

  /**
   * `POST /channels/{id}/continue`: the channel leaves Stasis (out of its bridge, StasisEnd) and the dialplan goes
   * on after `Stasis()`: extensions.conf's fallback plays the prompt as early media and hangs up with cause 41,
   * which an unanswered caller hears as 183 then 603. The app hears nothing after StasisEnd.
   */
  continueInDialplan(ch: PeerChannel): void {
    if (ch.hungUp || !ch.inStasis) return;
    if (ch.playbackId) this.finishPlayback(ch.playbackId, 'done');
    if (ch.bridgeId) this.leaveBridge(ch);
    ch.inStasis = false;
    this.emitChannel(ch, 'StasisEnd');
    if (this.options.noise && ch.origin === 'originate') this.emitVarset(ch, 'STASISSTATUS', 'SUCCESS');
    ch.subscribedApp = undefined;
    ch.dialplan = { ...ch.dialplan, app_name: 'Playback', app_data: 'ss-noservice,noanswer' };
    if (ch.state !== 'Up') ch.respond(183);
    ch.later(this.options.playbackMs, () => {
      if (ch.hungUp) return;
      ch.hungUp = true;
      if (ch.state !== 'Up') ch.respond(rejectResponseFor(41));
      ch.clearTimers();
      this.channels.delete(ch.id);
      this.onChannelEnd(ch, { cause: 41, by: 'fallback', reason: 'dialplan fallback' });
    });
  }

  /** The channel disappears without a single event (lost events, a crashed module): the next REST call 404s. */
  vanish(ch: PeerChannel): void {
    if (ch.hungUp) return;
    ch.hungUp = true;
    ch.clearTimers();
    if (ch.bridgeId) {
      const b = this.bridges.get(ch.bridgeId);
      if (b) b.channels.splice(b.channels.indexOf(ch.id), 1);
      ch.bridgeId = undefined;
    }
    if (ch.playbackId) {
      const pb = this.playbacks.get(ch.playbackId);
      if (pb) clearTimeout(pb.timer);
      this.playbacks.delete(ch.playbackId);
    }
    ch.subscribedApp = undefined;
    ch.inStasis = false;
    this.channels.delete(ch.id);
    this.onChannelEnd(ch, { cause: 0, by: 'switch', reason: 'vanished' });
  }

  // ---- bridges -----------------------------------------------------------------------------------------------

  createBridge(id: string | undefined, name: string, type: string, app: string): PeerBridge {
    const bridge = new PeerBridge(id ?? randomUUID(), name, type, app, Date.now());
    this.bridges.set(bridge.id, bridge);
    return bridge;
  }

  enterBridge(ch: PeerChannel, bridge: PeerBridge): void {
    if (ch.bridgeId === bridge.id) return;
    if (ch.bridgeId) this.leaveBridge(ch);
    bridge.channels.push(ch.id);
    ch.bridgeId = bridge.id;
    this.emitChannel(ch, 'ChannelEnteredBridge', { bridge: bridge.json() });
  }

  /** After channels were added: the peers learn of each other (BRIDGEPEER, connected line) as on a real switch. */
  settleBridge(bridge: PeerBridge): void {
    if (bridge.channels.length < 2) return;
    const members = bridge.channels.map((id) => this.channels.get(id)).filter((c): c is PeerChannel => c !== undefined);
    // Asterisk sets each member's BRIDGEPEER and BRIDGEPVTCALLID (the peer's SIP Call-ID) several times as the
    // bridge settles, the last-entered member first: twice before the connected-line update, once after (recorded).
    const peerVars = (): void => {
      if (!this.options.noise) return;
      for (const ch of [...members].reverse()) {
        const other = members.find((m) => m !== ch);
        if (!other) continue;
        this.emitVarset(ch, 'BRIDGEPEER', other.name);
        this.emitVarset(ch, 'BRIDGEPVTCALLID', other.protocolId);
      }
    };
    peerVars();
    peerVars();
    for (const ch of members) {
      const other = members.find((m) => m !== ch);
      if (!other) continue;
      const changed = ch.connected.number !== other.caller.number || ch.connected.name !== other.caller.name;
      if (changed) ch.connected = { ...other.caller };
      // An originated channel always gets a connected-line update when bridged: its far end a re-INVITE (new SDP
      // version, PAI without display name) unless the endpoint has send_connected_line=no; the event is emitted
      // either way (fact 17). A caller gets the event only when the line changed, and never a re-INVITE.
      if (changed || ch.origin === 'originate') {
        if (this.options.noise) this.emitChannel(ch, 'ChannelConnectedLine');
        if (ch.origin === 'originate' && !this.options.noConnectedLine.includes(ch.endpoint)) ch.reinvites++;
      }
    }
    peerVars();
    for (const ch of members) this.onBridged(ch, bridge);
  }

  /**
   * A channel that carried media (answered) gets its RTP statistics set as it hangs up, before the HangupRequest:
   * RTPAUDIOQOS and its JITTER, LOSS, RTT and MES parts, each followed by the same figure as ...BRIDGED on the
   * channel it is bridged with (recorded: ten ChannelVarset events for a bridged caller's BYE, five otherwise).
   */
  private emitRtpStatistics(ch: PeerChannel): void {
    const bridge = ch.bridgeId ? this.bridges.get(ch.bridgeId) : undefined;
    const partnerId = bridge?.channels.find((id) => id !== ch.id);
    const partner = partnerId ? this.channels.get(partnerId) : undefined;
    const heard = (c: PeerChannel | undefined): boolean => c?.subscribedApp !== undefined && this.hub.wants(c.subscribedApp, 'ChannelVarset');
    if (!this.hub.record && !heard(ch) && !heard(partner)) return; // filtered out or unheard: skip building the figures
    for (const [name, value] of rtpStatistics(ch)) {
      this.emitVarset(ch, name, value);
      if (partner) this.emitVarset(partner, `${name}BRIDGED`, value);
    }
  }

  leaveBridge(ch: PeerChannel): void {
    const bridge = ch.bridgeId ? this.bridges.get(ch.bridgeId) : undefined;
    ch.bridgeId = undefined;
    if (!bridge) return;
    const at = bridge.channels.indexOf(ch.id);
    if (at >= 0) bridge.channels.splice(at, 1);
    if (this.options.noise) {
      this.emitVarset(ch, 'BRIDGEPEER', '');
      this.emitVarset(ch, 'BRIDGEPVTCALLID', '');
    }
    this.emitChannel(ch, 'ChannelLeftBridge', { bridge: bridge.json() });
  }

  destroyBridge(bridge: PeerBridge): void {
    this.bridges.delete(bridge.id);
    for (const id of [...bridge.channels]) {
      const ch = this.channels.get(id);
      if (ch) this.leaveBridge(ch);
    }
    bridge.channels.length = 0;
    this.emitBridge(bridge, 'BridgeDestroyed');
  }

  // ---- playbacks ---------------------------------------------------------------------------------------------

  startPlayback(ch: PeerChannel, id: string, media: string): PeerPlayback {
    const app = ch.subscribedApp ?? this.options.app;
    const pb = new PeerPlayback(id, media, ch.id, app);
    this.playbacks.set(id, pb);
    if (ch.playbackId) this.finishPlayback(ch.playbackId, 'done');
    ch.playbackId = id;
    const file = media.replace(/^sound:/, '');
    const duration = this.prompts.get(file) ?? this.options.playbackMs;
    setImmediate(() => {
      if (pb.state !== 'queued') return;
      pb.state = 'playing';
      this.emitPlayback(pb, 'PlaybackStarted');
      pb.timer = setTimeout(() => this.finishPlayback(id, duration < 0 ? 'failed' : 'done'), Math.max(0, duration));
    });
    return pb;
  }

  finishPlayback(id: string, state: 'done' | 'failed'): void {
    const pb = this.playbacks.get(id);
    if (!pb) return;
    clearTimeout(pb.timer);
    this.playbacks.delete(id);
    const ch = this.channels.get(pb.channelId);
    if (ch?.playbackId === id) ch.playbackId = undefined;
    pb.state = state;
    this.emitPlayback(pb, 'PlaybackFinished');
  }
}

/** The RTP statistics variables of a hung-up channel, in the recorded order and format (zero loss and jitter). */
function rtpStatistics(ch: PeerChannel): Array<[string, string]> {
  const stats = (names: string[], pad: string): string => names.map((n) => `${pad}${n}=000.000000;`).join('');
  const ssrc = (ch.protocolId.length * 2654435761 + ch.name.length) >>> 0;
  const packets = Math.max(1, Math.round((Date.now() - ch.creationtime) / 20));
  return [
    ['RTPAUDIOQOS', `ssrc=${ssrc};themssrc=${(ssrc ^ 0x5bd1e995) >>> 0};lp=0;rxjitter=0.000000;rxcount=${packets};txjitter=0.000125;txcount=${packets};rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000`],
    ['RTPAUDIOQOSJITTER', stats(['minrxjitter', 'maxrxjitter', 'avgrxjitter', 'stdevrxjitter', 'mintxjitter', 'maxtxjitter', 'avgtxjitter', 'stdevtxjitter'], '')],
    ['RTPAUDIOQOSLOSS', stats(['minrxlost', 'maxrxlost', 'avgrxlost', 'stdevrxlost', 'mintxlost', 'maxtxlost', 'avgtxlost', 'stdevtxlost'], '  ')],
    ['RTPAUDIOQOSRTT', stats(['minrtt', 'maxrtt', 'avgrtt', 'stdevrtt'], '     ')],
    ['RTPAUDIOQOSMES', stats(['minrxmes', 'maxrxmes', 'avgrxmes', 'stdevrxmes', 'mintxmes', 'maxtxmes', 'avgtxmes', 'stdevtxmes'], '   ')],
  ];
}
