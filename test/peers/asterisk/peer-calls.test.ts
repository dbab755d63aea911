/**
 * The Asterisk peer's call scenarios, driven by a bare ARI client that replays what the app did in the recorded
 * Asterisk 22.10.1 sessions (happy, busy, no answer, caller cancel). The events the peer sends must come in the
 * recorded order with the recorded causes, ignoring ChannelVarset / ChannelConnectedLine chatter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsteriskPeer, type EventJson } from './index';
import { RawAri, channelIdOf, type EventSocket } from './raw-ari';

interface TimelineEntry {
  type: string;
  role?: 'caller' | 'buyer';
  state?: string;
  cause?: number;
  cause_txt?: string;
  tech_cause?: number;
  soft?: boolean;
  dialstatus?: string;
  args?: string[];
  bridge_channels?: number;
}

const recorded = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'asterisk', 'recorded.json'), 'utf8')) as {
  sequences: Record<string, Array<TimelineEntry | { request: string } | { response: number }>>;
  samples: Record<string, Record<string, unknown>>;
};

/** The recorded events of a scenario, without the HTTP request/response markers. */
function recordedEvents(name: string): TimelineEntry[] {
  return (recorded.sequences[name] ?? []).filter((e): e is TimelineEntry => 'type' in e);
}

/** The same projection of what the peer sent. */
function timeline(events: EventJson[], callerId: string): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of events) {
    if (e.type === 'ChannelVarset' || e.type === 'ChannelConnectedLine') continue;
    const entry: TimelineEntry = { type: e.type };
    const ch = (e.channel ?? e.peer) as { id: string; state: string } | undefined;
    if (ch) {
      entry.role = ch.id === callerId ? 'caller' : 'buyer';
      entry.state = ch.state;
    }
    for (const k of ['cause', 'cause_txt', 'tech_cause', 'soft', 'dialstatus', 'args'] as const) if (k in e) (entry as unknown as Record<string, unknown>)[k] = e[k];
    if (e.bridge) entry.bridge_channels = (e.bridge as { channels: string[] }).channels.length;
    out.push(entry);
  }
  return out;
}

const CREDS = { username: 'ari', password: 'ari' };
const isType = (type: string, id?: string) => (e: EventJson) => e.type === type && (id === undefined || channelIdOf(e) === id || (e.bridge as { id?: string } | undefined)?.id === id);

describe('Asterisk peer: call scenarios against the recordings', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;
  let ws: EventSocket;

  beforeEach(async () => {
    peer = new AsteriskPeer({ app: 'testapp', username: 'ari', password: 'ari', endpoints: ['carrier', 'buyer'], timeScale: 0.05 });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events('testapp');
  });

  afterEach(async () => {
    ws.close();
    await peer.close();
  });

  async function answeredCaller(): Promise<string> {
    peer.placeCall({ ani: 'sipp', dnis: '1234', callerName: 'sipp' });
    const start = await ws.waitFor(isType('StasisStart'));
    const callerId = channelIdOf(start) as string;
    expect((await ari.request('POST', `/ari/channels/${callerId}/answer`)).status).toBe(204);
    return callerId;
  }

  async function originateBuyer(timeout = 30): Promise<string> {
    const res = await ari.request('POST', `/ari/channels?endpoint=PJSIP%2Fbuyer&app=testapp&appArgs=buyer&callerId=%22sipp%22%20%3Csipp%3E&timeout=${timeout}`);
    expect(res.status).toBe(200);
    const ch = res.json as { id: string; state: string; caller: unknown; dialplan: { app_name: string } };
    expect(ch.state).toBe('Down');
    expect(ch.caller).toEqual({ name: 'sipp', number: 'sipp' });
    expect(ch.dialplan.app_name).toBe('AppDial2');
    return ch.id;
  }

  it('happy: answer, originate, bridge, caller BYE, app hangs up the buyer and destroys the bridge', async () => {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5 });
    const callerId = await answeredCaller();
    const buyerId = await originateBuyer();
    await ws.waitFor(isType('StasisStart', buyerId));
    const bridge = (await ari.request('POST', '/ari/bridges?type=mixing&name=call')).json as { id: string };
    expect((await ari.request('POST', `/ari/bridges/${bridge.id}/addChannel?channel=${callerId}%2C${buyerId}`)).status).toBe(204);
    peer.hangupFarEnd(callerId);
    await ws.waitFor(isType('StasisEnd', callerId));
    expect((await ari.request('DELETE', `/ari/channels/${buyerId}`)).status).toBe(204);
    await ws.waitFor(isType('ChannelDestroyed', buyerId));
    expect((await ari.request('DELETE', `/ari/bridges/${bridge.id}`)).status).toBe(204);
    await ws.waitFor(isType('BridgeDestroyed'));

    expect(timeline(ws.events, callerId)).toEqual(recordedEvents('happy'));
    expect(peer.channels()).toEqual([]);
    expect(peer.bridges()).toEqual([]);
  });

  it('busy: HangupRequest 17/486, Dial BUSY, ChannelDestroyed 17 and no StasisStart for the buyer', async () => {
    peer.buyers.set('buyer', { kind: 'busy', afterMs: 5 });
    const callerId = await answeredCaller();
    const buyerId = await originateBuyer();
    await ws.waitFor(isType('ChannelDestroyed', buyerId));
    expect((await ari.request('DELETE', `/ari/channels/${callerId}?reason=busy`)).status).toBe(204);
    await ws.waitFor(isType('StasisEnd', callerId));
    expect(timeline(ws.events, callerId)).toEqual(recordedEvents('busy'));
  });

  it('no answer: after the originate timeout only ChannelDestroyed 19 (no HangupRequest, no final Dial)', async () => {
    peer.buyers.set('buyer', { kind: 'no_answer' });
    const callerId = await answeredCaller();
    const started = Date.now();
    const buyerId = await originateBuyer(3);
    await ws.waitFor(isType('ChannelDestroyed', buyerId));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // 3 s scaled by 0.05
    expect((await ari.request('DELETE', `/ari/channels/${callerId}?reason=no_answer`)).status).toBe(204);
    await ws.waitFor(isType('StasisEnd', callerId));
    expect(timeline(ws.events, callerId)).toEqual(recordedEvents('noanswer'));
  });

  it('caller cancel: HangupRequest 127/487 and StasisEnd, then answer and GET get 404', async () => {
    const call = peer.placeCall({ ani: 'sipp', dnis: '1234', hangupAfterMs: 20 });
    await ws.waitFor(isType('StasisEnd', call.channelId));
    const answer = await ari.request('POST', `/ari/channels/${call.channelId}/answer`);
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ message: 'Channel not found' });
    expect((await ari.request('GET', `/ari/channels/${call.channelId}`)).status).toBe(404);
    expect(timeline(ws.events, call.channelId)).toEqual(recordedEvents('caller_cancel'));
    expect((await call.finished).endedBy).toBe('caller');
  });

  it('shapes events and channels as recorded (key order included)', async () => {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5 });
    const callerId = await answeredCaller();
    const buyerId = await originateBuyer();
    const buyerStart = await ws.waitFor(isType('StasisStart', buyerId));
    const callerStart = ws.events.find(isType('StasisStart', callerId)) as EventJson;
    const dial = ws.events.find(isType('Dial', buyerId)) as EventJson;
    for (const [got, sample] of [
      [callerStart, recorded.samples.StasisStart_caller],
      [buyerStart, recorded.samples.StasisStart_buyer],
      [dial, recorded.samples.Dial],
    ] as const) {
      expect(Object.keys(got)).toEqual(Object.keys(sample as object));
      const ch = (got.channel ?? got.peer) as Record<string, unknown>;
      const sampleCh = ((sample as Record<string, unknown>).channel ?? (sample as Record<string, unknown>).peer) as Record<string, unknown>;
      expect(Object.keys(ch)).toEqual(Object.keys(sampleCh));
      expect(got.asterisk_id).toBe('00:00:5e:00:53:01');
      expect(got.application).toBe('testapp');
      expect(got.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    }
    expect(buyerStart.args).toEqual(['buyer']);
    expect((buyerStart.channel as { dialplan: unknown }).dialplan).toEqual(expect.objectContaining({ app_name: 'Stasis', app_data: 'testapp,buyer' }));
    expect(callerId).toMatch(/^\d+\.\d+$/);

    expect((await ari.request('DELETE', `/ari/channels/${buyerId}`)).status).toBe(204);
    const request = await ws.waitFor(isType('ChannelHangupRequest', buyerId));
    expect(Object.keys(request)).toEqual(Object.keys(recorded.samples.ChannelHangupRequest_soft as object));
    expect(request).toEqual(expect.objectContaining({ cause: 32, soft: true }));
    const destroyed = await ws.waitFor(isType('ChannelDestroyed', buyerId));
    expect(Object.keys(destroyed)).toEqual(Object.keys(recorded.samples.ChannelDestroyed_16 as object));
  });

  it('can deliver StasisStart of an originated leg before its Up state change', async () => {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5, stasisFirstMs: 30 });
    const callerId = await answeredCaller();
    const buyerId = await originateBuyer();
    await ws.waitFor((e) => e.type === 'ChannelStateChange' && channelIdOf(e) === buyerId && (e.channel as { state: string }).state === 'Up');
    const buyerEvents = timeline(ws.events, callerId).filter((e) => e.role === 'buyer').map((e) => `${e.type}:${e.state}`);
    expect(buyerEvents).toEqual(['Dial:Down', 'ChannelStateChange:Ringing', 'Dial:Ringing', 'StasisStart:Ringing', 'ChannelStateChange:Up', 'Dial:Up']);
  });

  it('sends the ari.conf channelvars in every snapshot', async () => {
    await peer.close();
    peer = new AsteriskPeer({ app: 'testapp', username: 'ari', password: 'ari', channelvars: ['CALLX_LEAD_ID', 'CALLX_ZIP'] });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events('testapp');
    peer.placeCall({ ani: '+12025550123', dnis: '+18005550100', channelVars: { CALLX_LEAD_ID: 'lead-9' } });
    const start = await ws.waitFor(isType('StasisStart'));
    expect((start.channel as { channelvars: unknown }).channelvars).toEqual({ CALLX_LEAD_ID: 'lead-9', CALLX_ZIP: '' });
  });

  it('falls back in the dialplan (no events) when the app has no WebSocket', async () => {
    ws.close();
    await new Promise((r) => setTimeout(r, 50));
    const call = peer.placeCall({ ani: '+12025550123', dnis: '+18005550100' });
    const record = await call.finished;
    expect(record.stasis).toBe('failed');
    expect(record.endedBy).toBe('fallback');
    expect(peer.channels()).toEqual([]);
  });

  it('originate to an unknown endpoint or technology is 500 {"error":"Allocation failed"}', async () => {
    for (const endpoint of ['PJSIP%2Fnosuch', 'NOSUCHTECH%2Ffoo', 'PJSIP%2F%2B15551230000%40nosuchtrunk']) {
      const res = await ari.request('POST', `/ari/channels?endpoint=${endpoint}&app=testapp`);
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: 'Allocation failed' });
    }
    expect(peer.channels()).toEqual([]);
  });

  it('plays a prompt: 201 with the playback, PlaybackStarted, PlaybackFinished', async () => {
    peer.prompts.set('ss-noservice', 20);
    const callerId = await answeredCaller();
    const res = await ari.request('POST', `/ari/channels/${callerId}/play?media=sound%3Ass-noservice&playbackId=pb-1`);
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: 'pb-1', media_uri: 'sound:ss-noservice', target_uri: `channel:${callerId}`, language: 'en', state: 'queued' });
    const finished = await ws.waitFor(isType('PlaybackFinished'));
    expect(finished.playback).toEqual(expect.objectContaining({ id: 'pb-1', state: 'done' }));
    expect(ws.events.findIndex(isType('PlaybackStarted'))).toBeLessThan(ws.events.findIndex(isType('PlaybackFinished')));
  });

  it('test controls: a vanished channel 404s without events; raw text reaches the socket as is', async () => {
    const callerId = await answeredCaller();
    const before = ws.events.length;
    expect(peer.vanish(callerId)).toBe(true);
    expect((await ari.request('POST', `/ari/channels/${callerId}/answer`)).status).toBe(404);
    const bridge = (await ari.request('POST', '/ari/bridges?type=mixing')).json as { id: string };
    const add = await ari.request('POST', `/ari/bridges/${bridge.id}/addChannel?channel=${callerId}`);
    expect(add.status).toBe(400);
    expect(add.json).toEqual({ message: 'Channel not found' });
    peer.sendRawEvent('{not json');
    peer.sendRawEvent('{"type":"NoSuchEvent"}');
    await new Promise((r) => setTimeout(r, 30));
    expect(ws.events.length).toBe(before + 1); // the unknown event parsed; the malformed text did not
  });
});
