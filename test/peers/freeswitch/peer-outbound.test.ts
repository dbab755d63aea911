/**
 * The peer as a call (outbound socket), checked frame by frame with a raw ESL endpoint against the facts of the
 * recorded FreeSWITCH 1.10.12 sessions (trimmed copies in test/fixtures/freeswitch).
 */
import { FreeSwitchPeer } from './freeswitch-peer';
import { RawAppServer, frameHeader, parseEvent, type RawEsl, type WireFrame } from './raw-esl';
import connectReply from '../../fixtures/freeswitch/connect-reply.json';
import timelines from '../../fixtures/freeswitch/timelines.json';
import headerOrder from '../../fixtures/freeswitch/event-header-order.json';

type TimelineItem = { dir: string; kind: string; name?: string; leg?: string; reply_text?: string; headers?: string[][] };

const isEvent = (f: WireFrame): boolean => /^text\/event-/.test(frameHeader(f, 'Content-Type') ?? '');
const isNotice = (f: WireFrame): boolean => frameHeader(f, 'Content-Type') === 'text/disconnect-notice';

/** Reduces frames to the shape the fixture timelines keep: event names (A/B leg) and notices. */
function shape(frames: WireFrame[], aUuid: string): string[] {
  return frames.map((f) => {
    if (isNotice(f)) return `notice:${frameHeader(f, 'Content-Disposition')}`;
    if (isEvent(f)) {
      const ev = parseEvent(f);
      return `${ev.get('Event-Name')}:${ev.get('Unique-ID') === aUuid ? 'A' : 'B'}`;
    }
    return `reply:${frameHeader(f, 'Reply-Text') ?? frameHeader(f, 'Content-Type')}`;
  });
}

function fixtureShape(name: keyof typeof timelines.scenarios, from: number): string[] {
  return (timelines.scenarios[name] as TimelineItem[])
    .slice(from)
    .filter((i) => i.dir === 'fs->app')
    .map((i) => {
      if (i.kind === 'disconnect') {
        const disp = i.headers?.find(([h]) => h === 'Content-Disposition')?.[1];
        return disp ? `notice:${disp}` : 'closed';
      }
      if (i.kind === 'event') return `${i.name}:${i.leg}`;
      return `reply:${i.reply_text ?? ''}`;
    })
    .filter((s) => s !== 'closed');
}

/** Collects every frame until the socket closes. */
async function drain(esl: RawEsl): Promise<WireFrame[]> {
  await esl.waitClosed(10000);
  return esl.frames.splice(0);
}

describe('FreeSWITCH peer, outbound socket (a call)', () => {
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

  const place = (extra: Partial<Parameters<FreeSwitchPeer['placeCall']>[0]> = {}) =>
    peer.placeCall({ app: { host: '127.0.0.1', port }, ani: '+12025550123', dnis: '+18005550100', ...extra });

  it('answers connect with URL-encoded CHANNEL_DATA in the recorded header order, reply headers last', async () => {
    const call = place({ sipHeaders: { 'X-Lead-Id': 'L-42' } });
    const esl = await app.accept();
    const reply = await esl.command('connect');
    expect(frameHeader(reply, 'Content-Length')).toBeUndefined();
    const names = reply.headers.map(([h]) => h);
    expect(names[0]).toBe('Event-Name');
    expect(frameHeader(reply, 'Event-Name')).toBe('CHANNEL_DATA');
    expect(reply.headers.slice(-4)).toEqual([
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '%2BOK%0A'],
      ['Socket-Mode', 'async'],
      ['Control', 'full'],
    ]);
    const fixtureNames = (connectReply.headers as string[][]).map(([h]) => h as string);
    const nonVariable = (list: string[]): string[] => list.filter((h) => !h.startsWith('variable_'));
    expect(nonVariable(names)).toEqual(nonVariable(fixtureNames));
    const missing = fixtureNames.filter((h) => h.startsWith('variable_') && !names.includes(h));
    expect(missing).toEqual(['variable_sip_subject']); // sipp sent a Subject header; our carrier does not
    expect(names.length).toBeGreaterThan(150);
    expect(frameHeader(reply, 'Channel-Name')).toBe('sofia/external/%2B12025550123%40127.0.0.1%3A5060');
    expect(frameHeader(reply, 'Event-Date-GMT')).toMatch(/^[A-Z][a-z]{2},%20\d{2}%20[A-Z][a-z]{2}%20\d{4}%20\d{2}%3A\d{2}%3A\d{2}%20GMT$/);
    expect(frameHeader(reply, 'variable_sip_h_X-Lead-Id')).toBe('L-42');
    expect(frameHeader(reply, 'Caller-Destination-Number')).toBe('%2B18005550100');
    expect(frameHeader(reply, 'variable_current_application')).toBe('socket');
    expect(frameHeader(reply, 'Unique-ID')).toBe(call.channel.uuid);
    esl.send('exit');
    await drain(esl);
  });

  it('happy call (plain myevents + linger): the recorded event order through exit', async () => {
    peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'answer', afterMs: 20 });
    const call = place({ hangupAfterBridgeMs: 50 });
    const esl = await app.accept();
    await esl.command('connect');
    expect(frameHeader(await esl.command('myevents'), 'Reply-Text')).toBe('+OK Events Enabled');
    expect(frameHeader(await esl.command('linger'), 'Reply-Text')).toBe('+OK will linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer', 'event-uuid': 'ev-answer' });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/external/buyer@127.0.0.1:5090', 'event-uuid': 'ev-bridge' });
    const hc = await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_HANGUP_COMPLETE');
    esl.frames.splice(0);
    esl.send('exit');
    const rest = await drain(esl);
    const record = await call.finished;
    expect(record.hangupBy).toBe('caller');
    expect(parseEvent(hc).get('variable_sip_hangup_disposition')).toBe('recv_bye');
    expect(record.delivered.filter((n) => !n.endsWith('notice'))).toEqual(
      fixtureShape('outbound-A-happy', 8).filter((s) => !s.startsWith('reply') && !s.startsWith('notice')).map((s) => s.split(':')[0]),
    );
    expect(shape(rest, call.channel.uuid)).toEqual(['reply:+OK bye', 'notice:disconnect']);
    const notice = rest[1] as WireFrame;
    expect(frameHeader(notice, 'Controlled-Session-UUID')).toBe(call.channel.uuid);
    expect(frameHeader(notice, 'Content-Length')).toBe('67');
    expect(notice.body).toBe('Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
  });

  it('plain events: Content-Length first, URL-encoded body ending in a blank line, EXECUTE_COMPLETE carries the event-uuid', async () => {
    place();
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer', 'event-uuid': 'b9e467a3' });
    expect(frameHeader(await esl.next(), 'Reply-Text')).toBe('+OK');
    const exec = await esl.next(isEvent);
    expect(exec.headers.map(([h]) => h)).toEqual(['Content-Length', 'Content-Type']);
    expect(frameHeader(exec, 'Content-Type')).toBe('text/event-plain');
    expect(Buffer.byteLength(exec.body ?? '')).toBe(Number(frameHeader(exec, 'Content-Length')));
    expect(exec.body?.endsWith('\n\n')).toBe(true);
    expect(exec.body).toContain('Channel-Name: sofia/external/%2B12025550123%40127.0.0.1%3A5060\n');
    const answer = parseEvent(await esl.next(isEvent));
    expect(answer.get('Event-Name')).toBe('CHANNEL_ANSWER');
    const done = parseEvent(await esl.next(isEvent));
    expect(done.get('Event-Name')).toBe('CHANNEL_EXECUTE_COMPLETE');
    expect(done.get('Application')).toBe('answer');
    expect(done.get('Application-Response')).toBe('_none_');
    expect(done.get('Application-UUID')).toBe('b9e467a3');
    esl.send('exit');
    await drain(esl);
  });

  it('busy buyer with continue_on_fail (json): the caller stays up; outcome on the bridge EXECUTE_COMPLETE', async () => {
    peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'busy', afterMs: 10 });
    const call = place();
    const esl = await app.accept();
    const uuid = call.channel.uuid;
    await esl.command('connect');
    await esl.command('myevents json');
    await esl.command('linger');
    esl.send(`sendmsg ${uuid}`, { 'call-command': 'execute', 'execute-app-name': 'answer', 'event-uuid': 'e1' });
    esl.send(`sendmsg ${uuid}`, { 'call-command': 'execute', 'execute-app-name': 'set', 'execute-app-arg': 'continue_on_fail=true', 'event-uuid': 'e2' });
    esl.send(`sendmsg ${uuid}`, { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/external/buyer@127.0.0.1:5090', 'event-uuid': 'e3' });
    const done = await esl.next((f) => isEvent(f) && parseEvent(f).get('Application-UUID') === 'e3' && parseEvent(f).get('Event-Name') === 'CHANNEL_EXECUTE_COMPLETE');
    const ev = parseEvent(done);
    expect(ev.format).toBe('json');
    expect(ev.get('variable_originate_disposition')).toBe('USER_BUSY');
    expect(ev.get('variable_originate_failed_cause')).toBe('USER_BUSY');
    expect(ev.get('variable_last_bridge_proto_specific_hangup_cause')).toBe('sip:486');
    expect(ev.get('variable_DIALSTATUS')).toBe('BUSY');
    expect(ev.get('Application-Response')).toBe('_none_');
    expect(ev.get('Answer-State')).toBe('answered');
    expect(ev.get('Hangup-Cause')).toBeUndefined();
    expect(JSON.parse(done.body ?? '')).toEqual(expect.objectContaining({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE' }));
    esl.frames.splice(0);
    esl.send(`sendmsg ${uuid}`, { 'call-command': 'hangup', 'hangup-cause': 'USER_BUSY' });
    await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_HANGUP_COMPLETE');
    esl.send('exit');
    await drain(esl);
    const record = await call.finished;
    expect(record.hangupCause).toBe('USER_BUSY');
    expect(record.hangupBy).toBe('app');
    const expected = fixtureShape('outbound-B-busy', 8).map((s) => s.split(':')[0]).filter((s) => s !== 'reply' && s !== 'notice');
    expect(record.delivered.filter((n) => !n.endsWith('notice'))).toEqual(expected);
  });

  it('busy buyer without continue_on_fail: FreeSWITCH hangs the caller up first (HANGUP before EXECUTE_COMPLETE)', async () => {
    peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'busy', afterMs: 10 });
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents json');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/external/buyer@127.0.0.1:5090' });
    await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_HANGUP_COMPLETE');
    esl.send('exit');
    await drain(esl);
    const record = await call.finished;
    expect(record.hangupCause).toBe('USER_BUSY');
    expect(record.hangupBy).toBe('switch');
    const expected = fixtureShape('outbound-B-busy-no-continue-on-fail', 8).map((s) => s.split(':')[0]).filter((s) => s !== 'reply' && s !== 'notice');
    expect(record.delivered.filter((n) => !n.endsWith('notice'))).toEqual(expected);
  });

  it('no answer with `event plain <list>` and no filter: B-leg events too; originate_timeout counts whole seconds', async () => {
    peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'no_answer' });
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    const ev = await esl.command(
      'event plain CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE CHANNEL_OUTGOING',
    );
    expect(frameHeader(ev, 'Reply-Text')).toBe('+OK event listener enabled plain');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'set', 'execute-app-arg': 'continue_on_fail=true', 'event-uuid': 'cof' });
    await esl.next((f) => isEvent(f) && parseEvent(f).get('Application-UUID') === 'cof' && parseEvent(f).get('Event-Name') === 'CHANNEL_EXECUTE_COMPLETE');
    esl.frames.splice(0);
    const started = Date.now();
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': '{originate_timeout=1}sofia/external/buyer@127.0.0.1:5090' });
    const done = await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_EXECUTE_COMPLETE' && parseEvent(f).get('Application') === 'bridge');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(0);
    expect(elapsed).toBeLessThanOrEqual(1100);
    expect(parseEvent(done).get('variable_originate_disposition')).toBe('NO_ANSWER');
    // As recorded: B's HANGUP, then A's bridge EXECUTE_COMPLETE, then B's HANGUP_COMPLETE.
    const next = await esl.next(isEvent);
    expect(shape([done, next], call.channel.uuid)).toEqual(['CHANNEL_EXECUTE_COMPLETE:A', 'CHANNEL_HANGUP_COMPLETE:B']);
    expect(call.record.delivered.slice(-8)).toEqual([
      'CHANNEL_EXECUTE', 'CHANNEL_OUTGOING', 'CHANNEL_CREATE', 'CHANNEL_ORIGINATE', 'CHANNEL_PROGRESS', 'CHANNEL_HANGUP',
      'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE',
    ]);
    esl.send('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NO_ANSWER' });
    await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_HANGUP_COMPLETE');
    esl.send('exit');
    await drain(esl);
    expect((await call.finished).hangupCause).toBe('NO_ANSWER');
  });

  it('caller cancels without linger: CHANNEL_HANGUP (ORIGINATOR_CANCEL, recv_cancel), then the disconnect notice and close', async () => {
    const call = place({ hangupAfterMs: 30 });
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents json');
    const frames = await drain(esl);
    expect(shape(frames, call.channel.uuid)).toEqual(['CHANNEL_HANGUP:A', 'notice:disconnect']);
    const hangup = parseEvent(frames[0] as WireFrame);
    expect(hangup.get('Hangup-Cause')).toBe('ORIGINATOR_CANCEL');
    expect(hangup.get('variable_sip_hangup_disposition')).toBe('recv_cancel');
    const record = await call.finished;
    expect(record.hangupBy).toBe('caller');
  });

  it('reply texts: filter, event json, nolinger, getvar, unknown commands and apps', async () => {
    const call = place({ variables: { continue_on_fail: 'true' } });
    const esl = await app.accept();
    await esl.command('connect');
    const uuid = call.channel.uuid;
    expect(frameHeader(await esl.command(`filter Unique-ID ${uuid}`), 'Reply-Text')).toBe(`+OK filter added. [Unique-ID]=[${uuid}]`);
    expect(frameHeader(await esl.command('event json CHANNEL_ANSWER CHANNEL_HANGUP'), 'Reply-Text')).toBe('+OK event listener enabled json');
    expect(frameHeader(await esl.command('nolinger'), 'Reply-Text')).toBe('+OK will not linger');
    expect(frameHeader(await esl.command('linger 5'), 'Reply-Text')).toBe('+OK will linger 5 seconds');
    expect(frameHeader(await esl.command('getvar continue_on_fail'), 'Reply-Text')).toBe('true');
    expect(frameHeader(await esl.command('bogus'), 'Reply-Text')).toBe('-ERR command not found');
    expect(frameHeader(await esl.command('sendmsg not-a-uuid', { 'call-command': 'hangup' }), 'Reply-Text')).toBe('-ERR invalid session id [not-a-uuid]');
    const api = await esl.command('api nosuchcommand');
    expect(frameHeader(api, 'Content-Type')).toBe('api/response');
    expect(api.body).toBe('-ERR nosuchcommand Command not found!\n');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'no_such_app' });
    const hangup = parseEvent(await esl.next(isEvent));
    expect(hangup.get('Event-Name')).toBe('CHANNEL_HANGUP');
    expect(hangup.get('Hangup-Cause')).toBe('DESTINATION_OUT_OF_ORDER');
    esl.send('exit');
    await drain(esl);
  });

  it('case-insensitive sendmsg headers (esl sends Event-UUID) and the text/plain body form of execute-app-arg', async () => {
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command(`filter Unique-ID ${call.channel.uuid}`);
    await esl.command('event json CHANNEL_EXECUTE_COMPLETE');
    esl.send('sendmsg', { 'Call-Command': 'execute', 'Execute-App-Name': 'set', 'Execute-App-Arg': 'x=1', 'Event-UUID': 'UP' });
    expect(parseEvent(await esl.next(isEvent)).get('Application-UUID')).toBe('UP');
    esl.socket.write('sendmsg\ncall-command: execute\nexecute-app-name: set\nevent-uuid: BODY\ncontent-type: text/plain\ncontent-length: 5\n\ny=two');
    const done = parseEvent(await esl.next(isEvent));
    expect(done.get('Application-UUID')).toBe('BODY');
    expect(done.get('Application-Data')).toBe('y=two');
    expect(done.get('variable_y')).toBe('two');
    esl.send('exit');
    await drain(esl);
  });

  it('app exits without hanging up: the channel goes back to the dialplan (fallback)', async () => {
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    esl.send('exit');
    await drain(esl);
    const record = await call.finished;
    expect(record.releasedToDialplan).toBe(true);
    expect(record.hangupBy).toBe('dialplan');
  });

  it('app not listening: the socket application fails and the dialplan goes on', async () => {
    await app.close();
    const record = await place().finished;
    expect(record.connectFailed).toBe(true);
    expect(record.releasedToDialplan).toBe(true);
  });

  it('buyer hangs up a bridged call with hangup_after_bridge: UNBRIDGE, then the caller HANGUP (send_bye)', async () => {
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 5, hangupAfterMs: 30 });
    const call = place();
    const esl = await app.accept();
    await esl.command('connect');
    await esl.command('myevents json');
    await esl.command('linger');
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'multiset', 'execute-app-arg': 'continue_on_fail=true hangup_after_bridge=true' });
    esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': '{origination_caller_id_number=+12025550123}sofia/gateway/buyers/+15551230001' });
    const hc = parseEvent(await esl.next((f) => isEvent(f) && parseEvent(f).get('Event-Name') === 'CHANNEL_HANGUP_COMPLETE'));
    expect(hc.get('variable_sip_hangup_disposition')).toBe('send_bye');
    expect(hc.get('Hangup-Cause')).toBe('NORMAL_CLEARING');
    esl.send('exit');
    await drain(esl);
    const record = await call.finished;
    const order = record.delivered.filter((n) => ['CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ANSWER'].includes(n));
    expect(order).toEqual(['CHANNEL_ANSWER', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE']);
    expect(record.hangupBy).toBe('buyer');
    expect(record.bridges[0]).toEqual(expect.objectContaining({ result: 'SUCCESS', endedBy: 'buyer', target: 'sofia/gateway/buyers/+15551230001' }));
  });
});

describe('FreeSWITCH peer, event header layout', () => {
  it('matches the recorded header names and order (variables aside) for each event of a bridged call', async () => {
    const peer = new FreeSwitchPeer();
    const app = new RawAppServer();
    const port = await app.listen();
    try {
      peer.buyers.set('buyer@127.0.0.1:5090', { kind: 'answer', afterMs: 10 });
      const call = peer.placeCall({ app: { host: '127.0.0.1', port }, ani: 'sipp', dnis: 'socket', hangupAfterBridgeMs: 30 });
      const esl = await app.accept();
      await esl.command('connect');
      await esl.command('myevents');
      await esl.command('linger');
      esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'answer' });
      esl.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'bridge', 'execute-app-arg': 'sofia/external/buyer@127.0.0.1:5090' });
      const seen = new Map<string, string[]>();
      for (;;) {
        const ev = parseEvent(await esl.next(isEvent));
        const name = ev.get('Event-Name') as string;
        const key = name === 'CHANNEL_EXECUTE_COMPLETE' ? `${name}:${ev.get('Application')}` : name;
        if (!seen.has(key)) seen.set(key, ev.headers.map(([h]) => h));
        if (name === 'CHANNEL_HANGUP_COMPLETE') break;
      }
      esl.send('exit');
      await call.finished;
      const layout = (names: string[]): string[] => names.filter((n) => !n.startsWith('variable_'));
      for (const [key, names] of Object.entries(headerOrder.events as Record<string, string[]>)) {
        expect({ key, names: layout(seen.get(key) ?? []) }).toEqual({ key, names: layout(names) });
      }
    } finally {
      await peer.close();
      await app.close();
    }
  });
});
