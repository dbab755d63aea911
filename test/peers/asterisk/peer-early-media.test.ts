/**
 * The Asterisk peer on an unanswered caller (recording J, fact 16) and after a bridge (fact 17): what the caller
 * hears for ring, progress, early-media playback and a rejecting DELETE, the events the app gets meanwhile, and
 * the connected-line re-INVITE the originated buyer gets unless its endpoint has send_connected_line=no.
 */
import { AsteriskPeer, type AsteriskPeerOptions } from './index';
import { RawAri, channelIdOf, type EventSocket } from './raw-ari';
import type { EventJson } from './wire-format';

const CREDS = { username: 'callx', password: 'secret' };
const isType = (type: string, id?: string) => (e: EventJson) => e.type === type && (id === undefined || channelIdOf(e) === id);

describe('Asterisk peer: an unanswered caller hears ringing, early media and the rejection', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;
  let ws: EventSocket;

  async function open(opts: AsteriskPeerOptions = {}): Promise<void> {
    peer = new AsteriskPeer({ app: 'callx', timeScale: 0.05, ...opts });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events('callx');
  }

  afterEach(async () => {
    ws.close();
    await peer.close();
  });

  async function unansweredCaller(): Promise<{ id: string; sip: number[]; finished: Promise<unknown> }> {
    const call = peer.placeCall({ ani: '+12125550123', dnis: '+18005550100' });
    await ws.waitFor(isType('StasisStart', call.channelId));
    return { id: call.channelId, sip: call.record.sip, finished: call.finished };
  }

  it('ring gives 180, DELETE ring nothing, play 201 and 183 without answering, progress no second 183; DELETE reason_code=17 sends 486', async () => {
    await open();
    peer.prompts.set('tt-monkeys', 5_000);
    const caller = await unansweredCaller();
    expect((await ari.request('POST', `/ari/channels/${caller.id}/ring`)).status).toBe(204);
    expect(caller.sip).toEqual([180]);
    expect((await ari.request('DELETE', `/ari/channels/${caller.id}/ring`)).status).toBe(204);
    expect(caller.sip).toEqual([180]);
    const play = await ari.request('POST', `/ari/channels/${caller.id}/play?media=sound:tt-monkeys`);
    expect(play.status).toBe(201);
    expect(caller.sip).toEqual([180, 183]);
    await ws.waitFor(isType('PlaybackStarted'));
    expect((await ari.request('POST', `/ari/channels/${caller.id}/progress`)).status).toBe(204);
    expect(caller.sip).toEqual([180, 183]);
    expect(peer.channel(caller.id)?.state).toBe('Ring');

    expect((await ari.request('DELETE', `/ari/channels/${caller.id}?reason_code=17`)).status).toBe(204);
    await ws.waitFor(isType('StasisEnd', caller.id));
    expect(caller.sip).toEqual([180, 183, 486]);
    // As recorded: the request is ours (32, soft), the running playback fails, then StasisEnd; no state change.
    const types = ws.events.filter((e) => e.type !== 'ChannelVarset' && e.type !== 'PlaybackStarted').map((e) => e.type);
    expect(types).toEqual(['StasisStart', 'ChannelHangupRequest', 'PlaybackFinished', 'StasisEnd']);
    expect(ws.events.find(isType('ChannelHangupRequest'))).toEqual(expect.objectContaining({ cause: 32, soft: true }));
    expect((ws.events.find(isType('PlaybackFinished'))?.playback as { state: string }).state).toBe('failed');
  });

  it.each([
    ['reason_code=21', 403],
    ['reason_code=34', 503],
    ['reason_code=41', 603],
    ['reason_code=1', 404],
    ['reason_code=16', 603],
    ['reason=normal', 603],
    ['reason=rejected', 403],
    ['reason=busy', 486],
    ['', 603],
  ])('DELETE ?%s on an unanswered caller sends %i, and the event is ChannelHangupRequest{32, soft}', async (query, code) => {
    await open();
    const caller = await unansweredCaller();
    expect((await ari.request('DELETE', `/ari/channels/${caller.id}${query ? `?${query}` : ''}`)).status).toBe(204);
    const request = await ws.waitFor(isType('ChannelHangupRequest', caller.id));
    expect(request).toEqual(expect.objectContaining({ cause: 32, soft: true }));
    await caller.finished;
    expect(caller.sip).toEqual([code]);
  });

  it('progress alone gives 183; an answered caller hung up gets 200 and then no final code (a BYE)', async () => {
    await open();
    const a = await unansweredCaller();
    expect((await ari.request('POST', `/ari/channels/${a.id}/progress`)).status).toBe(204);
    expect(a.sip).toEqual([183]);
    const b = await unansweredCaller();
    expect((await ari.request('POST', `/ari/channels/${b.id}/answer`)).status).toBe(204);
    expect((await ari.request('DELETE', `/ari/channels/${b.id}?reason_code=17`)).status).toBe(204);
    await b.finished;
    expect(b.sip).toEqual([200]);
  });

  it('continue: the caller leaves Stasis (StasisEnd) and the dialplan fallback gives it early media and 603, never a 200', async () => {
    await open({ playbackMs: 20 });
    const caller = await unansweredCaller();
    expect((await ari.request('POST', `/ari/channels/${caller.id}/continue`)).status).toBe(204);
    await ws.waitFor(isType('StasisEnd', caller.id));
    const record = (await caller.finished) as { endedBy: string };
    expect(record.endedBy).toBe('fallback');
    expect(caller.sip).toEqual([183, 603]);
    expect(peer.channels()).toEqual([]);
    expect((await ari.request('POST', `/ari/channels/${caller.id}/continue`)).status).toBe(404);
  });

  async function bridgedBuyer(): Promise<{ callerId: string; buyerId: string }> {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5 });
    const caller = await unansweredCaller();
    await ari.request('POST', `/ari/channels/${caller.id}/answer`);
    const buyer = (await ari.request('POST', `/ari/channels?endpoint=PJSIP%2Fbuyer%40buyers&app=callx&appArgs=buyer&callerId=%2B12125550123`)).json as { id: string };
    await ws.waitFor(isType('StasisStart', buyer.id));
    const bridge = (await ari.request('POST', '/ari/bridges?type=mixing')).json as { id: string };
    expect((await ari.request('POST', `/ari/bridges/${bridge.id}/addChannel?channel=${caller.id},${buyer.id}`)).status).toBe(204);
    return { callerId: caller.id, buyerId: buyer.id };
  }

  it('after addChannel the originated buyer gets a connected-line re-INVITE (the caller none)', async () => {
    await open();
    const { buyerId } = await bridgedBuyer();
    expect(peer.originated.find((o) => o.channelId === buyerId)?.channel.reinvites).toBe(1);
    expect(ws.events.some(isType('ChannelConnectedLine', buyerId))).toBe(true);
  });

  it('with send_connected_line=no on the buyers endpoint there is no re-INVITE, though ChannelConnectedLine is still emitted', async () => {
    await open({ noConnectedLine: ['buyers'] });
    const { buyerId } = await bridgedBuyer();
    expect(peer.originated.find((o) => o.channelId === buyerId)?.channel.reinvites).toBe(0);
    expect(ws.events.some(isType('ChannelConnectedLine', buyerId))).toBe(true);
  });
});
