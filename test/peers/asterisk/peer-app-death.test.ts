/**
 * The Asterisk peer when the app's WebSocket dies while a call is bridged (recording G, fact 15): the channels
 * stay in Stasis and in their bridge, a reconnect replays nothing, events of the gap are lost while GET .../variable
 * returns current values, GET /applications/{app} still lists the subscriptions, and later events are normal (the
 * buyer stays bridged after the caller's BYE until the app deletes it).
 */
import { AsteriskPeer } from './index';
import { RawAri, channelIdOf, type EventSocket } from './raw-ari';
import type { EventJson } from './wire-format';

const CREDS = { username: 'callx', password: 'secret' };
const isType = (type: string, id?: string) => (e: EventJson) => e.type === type && (id === undefined || channelIdOf(e) === id);
const CALL_ID = '3235bf7e-e283-4bbc-afbe-8bb11c4ca321';

describe('Asterisk peer: the app dies while a call is bridged', () => {
  let peer: AsteriskPeer;
  let ari: RawAri;
  let ws: EventSocket;

  beforeEach(async () => {
    peer = new AsteriskPeer({ app: 'callx' });
    await peer.listen();
    ari = new RawAri(peer.url, CREDS);
    ws = await ari.events('callx');
  });

  afterEach(async () => {
    ws.close();
    await peer.close();
  });

  it('keeps the call in Stasis and bridged, replays nothing on reconnect, loses gap events but serves current variables', async () => {
    peer.buyers.set('buyer', { kind: 'answer', afterMs: 5 });
    const call = peer.placeCall({ ani: '+12125550123', dnis: '+18005550100' });
    const callerId = call.channelId;
    await ws.waitFor(isType('StasisStart', callerId));
    await ari.request('POST', `/ari/channels/${callerId}/answer`);
    expect((await ari.request('POST', `/ari/channels/${callerId}/variable?variable=CALLX_CALL_ID&value=${CALL_ID}`)).status).toBe(204);
    const buyer = (await ari.request('POST', '/ari/channels?endpoint=PJSIP%2Fbuyer%40buyers&app=callx&appArgs=buyer&timeout=30', { body: { variables: { CALLX_CALL_ID: CALL_ID } } })).json as { id: string };
    await ws.waitFor(isType('StasisStart', buyer.id));
    const bridge = (await ari.request('POST', '/ari/bridges?type=mixing&name=call-3235bf7e')).json as { id: string };
    await ari.request('POST', `/ari/bridges/${bridge.id}/addChannel?channel=${callerId},${buyer.id}`);
    await ws.waitFor(isType('ChannelEnteredBridge', buyer.id));

    // The app's TCP connection dies with no close frame; a variable is set from the CLI meanwhile.
    peer.dropEventSockets();
    await new Promise((r) => setTimeout(r, 30));
    expect(peer.setChannelVar(callerId, 'CALLX_GAP', 'set-while-no-app')).toBe(true);
    expect(peer.channel(callerId)?.inStasis).toBe(true);
    expect(peer.bridges()).toEqual([expect.objectContaining({ id: bridge.id, channels: [callerId, buyer.id] })]);

    const ws2 = await ari.events('callx');
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(ws2.events).toEqual([]); // no StasisStart, no ChannelEnteredBridge, no ChannelVarset for the gap
      const channels = (await ari.request('GET', '/ari/channels')).json as Array<{ id: string; state: string; dialplan: { app_name: string } }>;
      expect(channels.map((c) => [c.id, c.state, c.dialplan.app_name]).sort()).toEqual([[callerId, 'Up', 'Stasis'], [buyer.id, 'Up', 'Stasis']].sort());
      expect((await ari.request('GET', `/ari/channels/${callerId}/variable?variable=CALLX_CALL_ID`)).json).toEqual({ value: CALL_ID });
      expect((await ari.request('GET', `/ari/channels/${buyer.id}/variable?variable=CALLX_CALL_ID`)).json).toEqual({ value: CALL_ID });
      expect((await ari.request('GET', `/ari/channels/${callerId}/variable?variable=CALLX_GAP`)).json).toEqual({ value: 'set-while-no-app' });
      const nope = await ari.request('GET', `/ari/channels/${callerId}/variable?variable=CALLX_NOSUCH`);
      expect([nope.status, nope.json]).toEqual([404, { message: 'Provided variable was not found' }]);
      const app = (await ari.request('GET', '/ari/applications/callx')).json as { channel_ids: string[]; bridge_ids: string[] };
      expect(app.channel_ids.sort()).toEqual([callerId, buyer.id].sort());
      expect(app.bridge_ids).toEqual([bridge.id]);

      // Later events are normal: the caller's BYE; the buyer stays bridged until the app deletes it.
      peer.hangupFarEnd(callerId);
      await ws2.waitFor(isType('StasisEnd', callerId));
      expect(ws2.events.filter((e) => e.type !== 'ChannelVarset').map((e) => e.type)).toEqual(['ChannelHangupRequest', 'ChannelLeftBridge', 'StasisEnd']);
      await new Promise((r) => setTimeout(r, 30));
      expect(peer.channel(buyer.id)?.bridgeId).toBe(bridge.id);
      expect((await ari.request('DELETE', `/ari/channels/${buyer.id}`)).status).toBe(204);
      await ws2.waitFor(isType('ChannelDestroyed', buyer.id));
    } finally {
      ws2.close();
    }
  });
});
