/**
 * The Asterisk peer sends the chatter a real Asterisk sends an app about its calls, not only the events the app
 * reads: ChannelVarset for BRIDGEPEER/BRIDGEPVTCALLID as a bridge settles, the RTP statistics (RTPAUDIOQOS...)
 * of a channel that carried media as it hangs up, STASISSTATUS of originated channels. An app pays to receive and
 * parse every one of them, so a peer that left them out made the exchange look cheaper per call than it is on a
 * switch. Checked against every event of the recorded calls (test/fixtures/asterisk/chatter.json, from the
 * Asterisk 22.10.1 recordings A-happy, B-busy, C-noanswer).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsteriskPeer, type EventJson } from './index';
import { RawAri, channelIdOf, type EventSocket } from './raw-ari';

type Entry = [string, string] | [string, string, string];

const recorded = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'asterisk', 'chatter.json'), 'utf8')) as {
  calls: Record<string, { count: number; bytes: number; events: Entry[] }>;
};

/** Every event as [type, caller|buyer|'' (bridge events), variable of a ChannelVarset]. */
function entries(events: EventJson[], callerId: string): Entry[] {
  return events.map((e) => {
    const ch = (e.channel ?? e.peer) as { id: string } | undefined;
    const role = ch ? (ch.id === callerId ? 'caller' : 'buyer') : '';
    return e.type === 'ChannelVarset' ? [e.type, role, String(e.variable)] : [e.type, role];
  });
}

const varsets = (list: Entry[]): Entry[] => list.filter((e) => e[0] === 'ChannelVarset');
const isType = (type: string, id?: string) => (e: EventJson) => e.type === type && (id === undefined || channelIdOf(e) === id);

describe('Asterisk peer: the events of a call, chatter included, as recorded', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;
  let ws: EventSocket;

  beforeEach(async () => {
    peer = new AsteriskPeer({ app: 'testapp', username: 'ari', password: 'ari', endpoints: ['carrier', 'buyer'], timeScale: 0.05 });
    await peer.listen();
    ari = new RawAri(peer.url, { username: 'ari', password: 'ari' });
    ws = await ari.events('testapp');
  });

  afterEach(async () => {
    ws.close();
    await peer.close();
  });

  async function answeredCallerAndBuyer(): Promise<{ callerId: string; buyerId: string }> {
    peer.placeCall({ ani: 'sipp', dnis: '1234', callerName: 'sipp' });
    const callerId = channelIdOf(await ws.waitFor(isType('StasisStart'))) as string;
    expect((await ari.request('POST', `/ari/channels/${callerId}/answer`)).status).toBe(204);
    const res = await ari.request('POST', '/ari/channels?endpoint=PJSIP%2Fbuyer&app=testapp&appArgs=buyer&callerId=%22sipp%22%20%3Csipp%3E&timeout=3');
    return { callerId, buyerId: (res.json as { id: string }).id };
  }

  it('bridged call: the ChannelVarset sequence, the number of events and their size match the recording', async () => {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5 });
    const { callerId, buyerId } = await answeredCallerAndBuyer();
    await ws.waitFor(isType('StasisStart', buyerId));
    const bridge = (await ari.request('POST', '/ari/bridges?type=mixing&name=call')).json as { id: string };
    expect((await ari.request('POST', `/ari/bridges/${bridge.id}/addChannel?channel=${callerId}%2C${buyerId}`)).status).toBe(204);
    peer.hangupFarEnd(callerId);
    await ws.waitFor(isType('StasisEnd', callerId));
    expect((await ari.request('DELETE', `/ari/channels/${buyerId}`)).status).toBe(204);
    await ws.waitFor(isType('ChannelDestroyed', buyerId));
    expect((await ari.request('DELETE', `/ari/bridges/${bridge.id}`)).status).toBe(204);
    await ws.waitFor((e) => e.type === 'BridgeDestroyed');

    const want = recorded.calls.happy!;
    const got = entries(ws.events, callerId);
    expect(varsets(got)).toEqual(varsets(want.events));
    // One more than A-happy's 52: the buyer's ChannelConnectedLine, recorded in G (the callx configuration), not in A.
    expect(got.length).toBeGreaterThanOrEqual(want.count);
    expect(got.length).toBeLessThanOrEqual(want.count + 1);
    const bytes = ws.events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    expect(bytes).toBeGreaterThan(want.bytes * 0.8);
    expect(bytes).toBeLessThan(want.bytes * 1.2);
  });

  it.each([
    ['busy', { kind: 'busy', afterMs: 5 } as const, 'busy'],
    ['noanswer', { kind: 'no_answer' } as const, 'no_answer'],
  ])('%s: the answered caller hung up by the app gets its RTP statistics first', async (name, script, reason) => {
    peer.buyers.set('buyer', script);
    const { callerId, buyerId } = await answeredCallerAndBuyer();
    await ws.waitFor(isType('ChannelDestroyed', buyerId), 10_000);
    expect((await ari.request('DELETE', `/ari/channels/${callerId}?reason=${reason}`)).status).toBe(204);
    await ws.waitFor(isType('StasisEnd', callerId));

    const want = recorded.calls[name]!;
    expect(varsets(entries(ws.events, callerId))).toEqual(varsets(want.events));
  });
});
