/**
 * An Asterisk 22 stand-in speaking ARI over real HTTP and the `/ari/events` WebSocket, for tests, the load
 * generator and the demo. It places carrier calls into Stasis, plays scripted buyers and consumers for what the
 * app originates, and lets tests break things (drop the WebSocket, make the switch unreachable, make a channel
 * vanish, send malformed events) and look inside (channels, bridges, requests, events).
 *
 *   const peer = new AsteriskPeer({ app: 'callx' });
 *   await peer.listen();
 *   peer.buyers.set('buyer-a', { kind: 'busy' });
 *   const call = peer.placeCall({ ani: '+12025550123', dnis: '+18005550100' });
 *   const record = await call.finished;
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiDocs } from './api-docs';
import { EventHub } from './event-hub';
import { AriHttpServer, type RequestLogEntry } from './http-server';
import type { PeerChannel } from './model';
import { RestHandlers } from './rest-handlers';
import { ariRoutes } from './routes';
import { Scenarios, type InboundCall, type OriginatedLeg, type PlaceCallOptions } from './scenarios';
import { SwitchState, type SwitchOptions } from './switch-state';
import type { BridgeJson, ChannelJson, EventJson } from './wire-format';

export interface AsteriskPeerOptions extends Partial<SwitchOptions> {
  username?: string;
  password?: string;
  /** Keep requests, events, calls and originated legs for assertions (default true; off for load runs). */
  record?: boolean;
  /** Events sent in one turn of the event loop share a TCP write (default: when not recording, i.e. load runs). */
  coalesceEvents?: boolean;
  /**
   * `PUT /applications/{app}/eventFilter` exists (default true, as in Asterisk 13.26 / 16.3 and later). False plays
   * an older Asterisk: the path is unknown (404 `Resource not found`), the api-docs lack it, and every event goes
   * to the app.
   */
  eventFilter?: boolean;
}

const RECORDED = join(__dirname, '..', '..', 'fixtures', 'asterisk', 'recorded.json');

function recordedInfo(asteriskId: string): Record<string, unknown> {
  const recorded = JSON.parse(readFileSync(RECORDED, 'utf8')) as { asteriskInfo: Record<string, unknown> & { system: Record<string, unknown> } };
  return { ...recorded.asteriskInfo, system: { ...recorded.asteriskInfo.system, entity_id: asteriskId } };
}

export class AsteriskPeer {
  readonly state: SwitchState;
  readonly scenarios: Scenarios;
  readonly hub: EventHub;
  private readonly http: AriHttpServer;
  port = 0;
  host = '127.0.0.1';

  constructor(options: AsteriskPeerOptions = {}) {
    const switchOptions: SwitchOptions = {
      app: options.app ?? 'callx',
      channelvars: options.channelvars ?? [],
      noise: options.noise ?? true,
      timeScale: options.timeScale ?? 1,
      playbackMs: options.playbackMs ?? 30,
      endpoints: options.endpoints ?? ['carrier', 'buyers', 'consumers'],
      noConnectedLine: options.noConnectedLine ?? [],
      asteriskId: options.asteriskId ?? '00:00:5e:00:53:01',
    };
    const creds = { username: options.username ?? 'callx', password: options.password ?? 'secret' };
    this.hub = new EventHub(creds, switchOptions.asteriskId);
    this.state = new SwitchState(switchOptions, this.hub);
    this.scenarios = new Scenarios(this.state);
    const eventFilter = options.eventFilter ?? true;
    const handlers = new RestHandlers(this.state, this.scenarios, recordedInfo(switchOptions.asteriskId), eventFilter);
    this.http = new AriHttpServer(ariRoutes(handlers, eventFilter), new ApiDocs(undefined, eventFilter), creds, this.hub);
    const record = options.record ?? true;
    this.hub.record = record;
    this.http.record = record;
    this.scenarios.record = record;
    this.hub.coalesce = options.coalesceEvents ?? !record;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.host = host;
    this.port = await this.http.listen(port, host);
    return this.port;
  }

  /** REST requests answered and events sent to apps (with their bytes) so far, counted even when not recording. */
  get wire(): { requests: number; events: number; eventBytes: number } {
    return { requests: this.http.requestCount, events: this.hub.wire.events, eventBytes: this.hub.wire.eventBytes };
  }

  /** The base URL an ARI client is given (`http://host:port`). */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get buyers() {
    return this.scenarios.buyers;
  }

  get consumers() {
    return this.scenarios.consumers;
  }

  /** Sound file (without `sound:`) -> playback duration in ms; -1 makes the playback fail (file not found). */
  get prompts(): Map<string, number> {
    return this.state.prompts;
  }

  /** A carrier call reaches the dialplan, which runs Stasis(<app>). */
  placeCall(opts: PlaceCallOptions): InboundCall {
    return this.scenarios.placeCall(opts);
  }

  // ---- test controls -----------------------------------------------------------------------------------------

  /** Cuts every event WebSocket (calls go on; events meanwhile are lost). */
  dropEventSockets(): void {
    this.hub.dropAll();
  }

  /** Refuses new event WebSockets (and, with `rest`, resets every REST request) until called with false. */
  setUnreachable(on: boolean, opts: { rest?: boolean } = {}): void {
    this.hub.refusing = on;
    this.http.unreachable = on && opts.rest === true;
    if (on) this.hub.dropAll();
  }

  /** While on, events are lost although the app stays registered (calls still enter Stasis). */
  loseEvents(on: boolean): void {
    this.hub.discarding = on;
  }

  /** Sends text as is over every event socket (malformed JSON, unknown event types). */
  sendRawEvent(text: string): void {
    this.hub.sendRaw(text);
  }

  /** The channel disappears without an event; the next REST call about it gets 404 (400 from addChannel). */
  vanish(channelId: string): boolean {
    const ch = this.state.channels.get(channelId);
    if (!ch) return false;
    this.state.vanish(ch);
    return true;
  }

  /**
   * A channel variable set from outside ARI (the CLI's `dialplan set chanvar`): its ChannelVarset goes to the
   * app if one is connected, and is lost otherwise, while GET .../variable returns the value (fact 15).
   */
  setChannelVar(channelId: string, name: string, value: string): boolean {
    const ch = this.state.channels.get(channelId);
    if (!ch) return false;
    this.state.setVar(ch, name, value);
    return true;
  }

  /** The far end of a channel hangs up (the caller's BYE/CANCEL, or a buyer's BYE). */
  hangupFarEnd(channelId: string): boolean {
    const ch = this.state.channels.get(channelId);
    if (!ch) return false;
    this.scenarios.farEndHangup(ch);
    return true;
  }

  channel(id: string): PeerChannel | undefined {
    return this.state.channels.get(id);
  }

  /** What GET /channels would return now. */
  channels(): ChannelJson[] {
    return [...this.state.channels.values()].map((c) => this.state.snapshot(c));
  }

  /** What GET /bridges would return now. */
  bridges(): BridgeJson[] {
    return [...this.state.bridges.values()].map((b) => b.json());
  }

  get requests(): RequestLogEntry[] {
    return this.http.requests;
  }

  /** Every event emitted for an app; `delivered`: it went on the app's socket (connected, and its filter allows it). */
  get events(): Array<{ app: string; event: EventJson; delivered: boolean }> {
    return this.hub.sent;
  }

  get calls(): InboundCall[] {
    return this.scenarios.calls;
  }

  get originated(): OriginatedLeg[] {
    return this.scenarios.originated;
  }

  get eventConnections(): number {
    return this.hub.connections;
  }

  async close(): Promise<void> {
    for (const ch of this.state.channels.values()) ch.clearTimers();
    for (const pb of this.state.playbacks.values()) clearTimeout(pb.timer);
    await this.hub.close();
    await this.http.close();
  }
}
