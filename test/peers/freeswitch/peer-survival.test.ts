/**
 * The peer when the app fails, stops or is throttled, against the recorded FreeSWITCH 1.10.12 behaviour
 * (facts 11-14: outbound-G/H/I and inbound-G; the inbound replies are copied in test/fixtures/freeswitch).
 */
import { FreeSwitchPeer } from './freeswitch-peer';
import { RawAppServer, RawEsl, frameHeader, parseEvent, type WireFrame } from './raw-esl';
import recorded from '../../fixtures/freeswitch/inbound-orphan-api.json';

const isEvent = (f: WireFrame): boolean => /^text\/event-/.test(frameHeader(f, 'Content-Type') ?? '');
const eventNamed = (name: string, uuid?: string) => (f: WireFrame): boolean => {
  if (!isEvent(f)) return false;
  const ev = parseEvent(f);
  return ev.get('Event-Name') === name && (uuid === undefined || ev.get('Unique-ID') === uuid);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('FreeSWITCH peer: calls outlive the app (facts 11-14)', () => {
  let peer: FreeSwitchPeer;
  let app: RawAppServer;
  let port: number;
  let inbound: RawEsl;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    app = new RawAppServer();
    port = await app.listen();
    inbound = await RawEsl.connect(await peer.listenInbound());
    await inbound.next();
    await inbound.command('auth ClueCon');
    await inbound.command('event plain CHANNEL_HANGUP_COMPLETE CHANNEL_BRIDGE CHANNEL_UNBRIDGE');
  });

  afterEach(async () => {
    inbound.close();
    await peer.close();
    await app.close();
  });

  const place = (extra: Partial<Parameters<FreeSwitchPeer['placeCall']>[0]> = {}) =>
    peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550123', dnis: '+18005550100', ...extra });

  async function bridgedCall(callId: string) {
    peer.buyers.set('buyer@127.0.0.1:47091', { kind: 'answer', afterMs: 5 });
    const call = place({ variables: { continue_on_fail: 'true', hangup_after_bridge: 'true' } });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'set', 'execute-app-arg': `callx_call_id=${callId}` });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/callx_buyers/buyer@127.0.0.1:47091' });
    await esl.next(eventNamed('CHANNEL_BRIDGE'));
    await inbound.next(eventNamed('CHANNEL_BRIDGE', call.channel.uuid));
    return { call, esl };
  }

  it('G: the app dies while bridged; the call goes on and the inbound connection still sees it, then its end', async () => {
    const { call, esl } = await bridgedCall('3efdfe17-fffd-44fb-948a-97421b1fbdf6');
    esl.close(); // TCP destroyed, no exit
    await sleep(100);
    const uuid = call.channel.uuid;

    const show = await inbound.command('api show channels as json');
    const listing = JSON.parse(show.body ?? '') as { row_count: number; rows: Array<Record<string, string>> };
    expect(listing.row_count).toBe(2);
    const caller = listing.rows.find((r) => r.uuid === uuid) as Record<string, string>;
    const buyer = listing.rows.find((r) => r.uuid !== uuid) as Record<string, string>;
    expect(Object.keys(caller)).toEqual(Object.keys(recorded.showChannels.rows[0] as object));
    expect(caller).toEqual(expect.objectContaining({ direction: 'inbound', application: 'bridge', callstate: 'ACTIVE', state: 'CS_EXECUTE' }));
    expect(buyer).toEqual(expect.objectContaining({ direction: 'outbound', application: '', call_uuid: uuid }));

    const exists = await inbound.command(`api uuid_exists ${uuid}`);
    expect(exists.body).toBe('true');
    expect(frameHeader(exists, 'Content-Length')).toBe('4');
    expect((await inbound.command(`api uuid_getvar ${uuid} callx_call_id`)).body).toBe('3efdfe17-fffd-44fb-948a-97421b1fbdf6');
    expect((await inbound.command(`api uuid_getvar ${uuid} no_such_var`)).body).toBe('_undef_');
    const dump = (await inbound.command(`api uuid_dump ${uuid}`)).body ?? '';
    expect(dump.split('\n').slice(0, 20).map((l) => l.split(':')[0])).toEqual(recorded.uuidDumpHead);
    expect(dump).toContain(`variable_bridge_uuid: ${buyer.uuid}\n`);

    call.callerHangup();
    const complete = parseEvent(await inbound.next(eventNamed('CHANNEL_HANGUP_COMPLETE', uuid)));
    expect(complete.get('variable_callx_call_id')).toBe('3efdfe17-fffd-44fb-948a-97421b1fbdf6');
    expect(complete.get('variable_sip_hangup_disposition')).toBe('recv_bye');
    expect(complete.get('Hangup-Cause')).toBe('NORMAL_CLEARING');
    const record = await call.finished;
    expect(record.releasedToDialplan).toBe(false);
    expect(record.hangupBy).toBe('caller');
    expect(record.bridges[0]).toEqual(expect.objectContaining({ result: 'SUCCESS', endedBy: 'caller' }));
    expect((await inbound.command(`api uuid_exists ${uuid}`)).body).toBe('false');
  });

  it('H: exit while bridged gets +OK bye, the notice and a close; the call is not torn down', async () => {
    const { call, esl } = await bridgedCall('c1');
    const bye = await esl.command('exit');
    expect(frameHeader(bye, 'Reply-Text')).toBe('+OK bye');
    const notice = await esl.next();
    expect(frameHeader(notice, 'Content-Disposition')).toBe('disconnect');
    await esl.waitClosed();
    await sleep(200);
    expect((await inbound.command(`api uuid_exists ${call.channel.uuid}`)).body).toBe('true');
    call.callerHangup();
    await inbound.next(eventNamed('CHANNEL_HANGUP_COMPLETE', call.channel.uuid));
    expect((await call.finished).hangupBy).toBe('caller');
  });

  it('a bridged buyer hangs up after the app died: hangup_after_bridge ends the caller, no fallback', async () => {
    peer.buyers.set('buyer@127.0.0.1:47091', { kind: 'answer', afterMs: 5, hangupAfterMs: 300 });
    const call = place({ variables: { hangup_after_bridge: 'true' } });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/callx_buyers/buyer@127.0.0.1:47091' });
    await esl.next(eventNamed('CHANNEL_BRIDGE'));
    esl.close();
    const record = await call.finished;
    expect(record.hangupBy).toBe('buyer');
    expect(record.releasedToDialplan).toBe(false);
  });

  it('12: exit on an answered, parked call ends `socket` and the fallback runs (NORMAL_TEMPORARY_FAILURE)', async () => {
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
    await sleep(50);
    await esl.command('exit');
    const record = await call.finished;
    expect(record.releasedToDialplan).toBe(true);
    expect(record.hangupBy).toBe('dialplan');
    expect(record.hangupCause).toBe('NORMAL_TEMPORARY_FAILURE');
  });

  it('14: the app accepts and closes before connect, no socket_resume: parked for good', async () => {
    const call = place();
    (await app.accept()).close();
    await sleep(300);
    expect(call.record.stuckInPark).toBe(true);
    expect(call.record.releasedToDialplan).toBe(false);
    expect((await inbound.command(`api uuid_exists ${call.channel.uuid}`)).body).toBe('true');
    await inbound.command('api hupall');
    expect((await call.finished).carrierResponse).toBe(480);
  });

  it('14: the same with park_timeout=1: hung up within a second, NORMAL_CLEARING (480)', async () => {
    const started = Date.now();
    const call = place({ variables: { park_timeout: '1' } });
    (await app.accept()).close();
    const record = await call.finished;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(record).toEqual(expect.objectContaining({ hangupBy: 'park_timeout', hangupCause: 'NORMAL_CLEARING', carrierResponse: 480 }));
  });

  it('14: with socket_resume=true the dialplan continues at once (the fallback)', async () => {
    const started = Date.now();
    const call = place({ variables: { socket_resume: 'true', park_timeout: '5' } });
    (await app.accept()).close();
    const record = await call.finished;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(record).toEqual(expect.objectContaining({ releasedToDialplan: true, stuckInPark: false, hangupBy: 'dialplan', carrierResponse: 503 }));
  });

  it('14: park_timeout also ends an answered call a connected app leaves parked', async () => {
    const call = place({ variables: { park_timeout: '1:NORMAL_TEMPORARY_FAILURE' } });
    const esl = await app.accept();
    await esl.command('connect');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
    const record = await call.finished;
    expect(record).toEqual(expect.objectContaining({ hangupBy: 'park_timeout', hangupCause: 'NORMAL_TEMPORARY_FAILURE' }));
  });

  it('park_timeout does not cut a bridge attempt running past it, but ends the caller as soon as it returns', async () => {
    peer.buyers.set('buyer@127.0.0.1:47091', { kind: 'no_answer' });
    const call = place({ variables: { park_timeout: '1', continue_on_fail: 'true' } });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': '{originate_timeout=2}sofia/callx_buyers/buyer@127.0.0.1:47091' });
    const done = parseEvent(await esl.next(eventNamed('CHANNEL_EXECUTE_COMPLETE'), 5000));
    expect(done.get('variable_originate_disposition')).toBe('NO_ANSWER');
    await esl.next(eventNamed('CHANNEL_HANGUP_COMPLETE'));
    esl.send('exit');
    const record = await call.finished;
    expect(record.hangupBy).toBe('park_timeout');
    expect(record.bridges[0]?.result).toBe('NO_ANSWER');
  });
});

describe('FreeSWITCH peer: session limits (fact 13)', () => {
  let peer: FreeSwitchPeer;
  let app: RawAppServer;
  let port: number;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    app = new RawAppServer();
    port = await app.listen();
  });

  afterEach(async () => {
    await peer.close();
    await app.close();
  });

  it('a throttled B-leg: the bridge completes at once with DESTINATION_OUT_OF_ORDER / INVALIDARGS, no INVITE, caller up', async () => {
    const call = peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550123', dnis: '+18005550100', variables: { continue_on_fail: 'true' } });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    await esl.command('linger');
    peer.core.setSessionsPerSecond(1, true); // no new session from now on
    const sent = Date.now();
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/callx_buyers/buyer@127.0.0.1:47091', 'event-uuid': 'B1' });
    const done = parseEvent(await esl.next(eventNamed('CHANNEL_EXECUTE_COMPLETE')));
    expect(Date.now() - sent).toBeLessThan(200);
    expect(done.get('Application-UUID')).toBe('B1');
    expect(done.get('Application-Response')).toBe('_none_');
    expect(done.get('variable_originate_disposition')).toBe('DESTINATION_OUT_OF_ORDER');
    expect(done.get('variable_originate_failed_cause')).toBe('DESTINATION_OUT_OF_ORDER');
    expect(done.get('variable_DIALSTATUS')).toBe('INVALIDARGS');
    expect(done.get('variable_originate_causes')).toBeUndefined();
    expect(done.get('Answer-State')).not.toBe('hangup');
    expect(peer.core.invitesSent).toEqual([]);
    esl.send('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_TEMPORARY_FAILURE' });
    await esl.next(eventNamed('CHANNEL_HANGUP_COMPLETE'));
    esl.send('exit');
    expect((await call.finished).carrierResponse).toBe(503);
  });

  it('a throttled INVITE gets 503 and never reaches ESL; fsctl sps applies from the next second', async () => {
    const inbound = await RawEsl.connect(await peer.listenInbound());
    await inbound.next();
    await inbound.command('auth ClueCon');
    expect((await inbound.command('api fsctl sps 1')).body).toBe('+OK sessions per second: 1\n');
    inbound.close();
    await sleep(1100);
    const record = await peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550123', dnis: '+18005550100' }).finished;
    expect(record).toEqual(expect.objectContaining({ refusedBySwitch: true, carrierResponse: 503, connected: false }));
    await expect(app.accept(200)).rejects.toThrow('no connection');
  });
});

describe('FreeSWITCH peer: the cause the carrier receives (issue 12, point 7)', () => {
  let peer: FreeSwitchPeer;
  let app: RawAppServer;
  let port: number;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    app = new RawAppServer();
    port = await app.listen();
    peer.buyers.set('buyer@127.0.0.1:47091', { kind: 'busy' });
  });

  afterEach(async () => {
    await peer.close();
    await app.close();
  });

  async function busyThenHangup(variables: Record<string, string>): Promise<number | undefined> {
    const call = peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12125550123', dnis: '+18005550100', variables });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/callx_buyers/buyer@127.0.0.1:47091' });
    await esl.next(eventNamed('CHANNEL_EXECUTE_COMPLETE'));
    esl.send('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_TEMPORARY_FAILURE' });
    await esl.next(eventNamed('CHANNEL_HANGUP_COMPLETE'));
    esl.send('exit');
    return (await call.finished).carrierResponse;
  }

  it("without sip_ignore_remote_cause the carrier gets the last buyer's 486, whatever cause the app hung up with", async () => {
    expect(await busyThenHangup({ continue_on_fail: 'true' })).toBe(486);
  });

  it('with sip_ignore_remote_cause=true the carrier gets the cause the app gave (NORMAL_TEMPORARY_FAILURE -> 503)', async () => {
    expect(await busyThenHangup({ continue_on_fail: 'true', sip_ignore_remote_cause: 'true' })).toBe(503);
  });
});
