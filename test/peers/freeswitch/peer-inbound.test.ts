/**
 * The peer as a switch (inbound ESL endpoint), checked with a raw client against the recorded session
 * (byte-exact frames in test/fixtures/freeswitch/inbound-raw-frames.json).
 */
import { FreeSwitchPeer } from './freeswitch-peer';
import { RawAppServer, RawEsl, frameHeader, parseEvent, type WireFrame } from './raw-esl';
import rawFrames from '../../fixtures/freeswitch/inbound-raw-frames.json';

const isEvent = (f: WireFrame): boolean => /^text\/event-/.test(frameHeader(f, 'Content-Type') ?? '');
const recorded = (i: number): string => (rawFrames.segments[i] as { text: string }).text;

describe('FreeSWITCH peer, inbound ESL endpoint', () => {
  let peer: FreeSwitchPeer;
  let port: number;

  beforeEach(async () => {
    peer = new FreeSwitchPeer();
    port = await peer.listenInbound();
  });

  afterEach(async () => {
    await peer.close();
  });

  async function login(format = 'plain', events = 'CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB'): Promise<RawEsl> {
    const esl = await RawEsl.connect(port);
    const auth = await esl.next();
    expect(auth.raw).toBe(recorded(0));
    const ok = await esl.command('auth ClueCon');
    expect(ok.raw).toBe(recorded(2));
    const ev = await esl.command(`event ${format} ${events}`);
    expect(frameHeader(ev, 'Reply-Text')).toBe(`+OK event listener enabled ${format}`);
    return esl;
  }

  it('auth, api status, bgapi originate (CHANNEL_ANSWER before BACKGROUND_JOB), nosuchcommand, uuid_kill, exit', async () => {
    const esl = await login();
    const status = await esl.command('api status');
    expect(status.headers.map(([h]) => h)).toEqual(['Content-Type', 'Content-Length']);
    expect(status.body).toMatch(/^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds, \d+ milliseconds, \d+ microseconds\nFreeSWITCH \(Version 1\.10\.12-release  64bit\) is ready\n/);
    expect(Buffer.byteLength(status.body ?? '')).toBe(Number(frameHeader(status, 'Content-Length')));

    const bg = await esl.command('bgapi originate sofia/external/x@127.0.0.1:5090 &park');
    const job = frameHeader(bg, 'Job-UUID') as string;
    expect(bg.headers).toEqual([
      ['Content-Type', 'command/reply'],
      ['Reply-Text', `+OK Job-UUID: ${job}`],
      ['Job-UUID', job],
    ]);
    const answer = parseEvent(await esl.next(isEvent));
    expect(answer.get('Event-Name')).toBe('CHANNEL_ANSWER');
    expect(answer.get('Call-Direction')).toBe('outbound');
    expect(answer.get('Caller-Caller-ID-Number')).toBe('0000000000');
    const jobFrame = await esl.next(isEvent);
    expect(jobFrame.body).toMatch(/^Event-Name: BACKGROUND_JOB\n/);
    expect(jobFrame.body).toContain('Job-Command-Arg: sofia/external/x%40127.0.0.1%3A5090%20%26park\nContent-Length: 41\n\n+OK ');
    const bgJob = parseEvent(jobFrame);
    expect(bgJob.get('Job-UUID')).toBe(job);
    expect(bgJob.get('Job-Command')).toBe('originate');
    expect(bgJob.body).toBe(`+OK ${answer.get('Unique-ID')}\n`);

    const unknown = await esl.command('api nosuchcommand');
    expect(unknown.raw).toBe('Content-Type: api/response\nContent-Length: 38\n\n-ERR nosuchcommand Command not found!\n');

    const kill = await esl.command(`api uuid_kill ${answer.get('Unique-ID')}`);
    expect(kill.body).toBe('+OK\n');
    const hc = parseEvent(await esl.next(isEvent));
    expect(hc.get('Event-Name')).toBe('CHANNEL_HANGUP_COMPLETE');
    expect((await esl.command(`api uuid_kill ${answer.get('Unique-ID')}`)).body).toBe('-ERR No such channel!\n');

    esl.send('exit');
    expect(frameHeader(await esl.next(), 'Reply-Text')).toBe('+OK bye');
    const bye = await esl.next();
    expect(bye.raw).toBe('Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
    await esl.waitClosed();
  });

  it('json BACKGROUND_JOB keeps the result in _body after Content-Length', async () => {
    const esl = await login('json', 'BACKGROUND_JOB');
    esl.send('bgapi status');
    await esl.next();
    const f = await esl.next(isEvent);
    const obj = JSON.parse(f.body ?? '') as Record<string, string>;
    const keys = Object.keys(obj);
    expect(keys.slice(-2)).toEqual(['Content-Length', '_body']);
    expect(Object.values(obj).every((v) => typeof v === 'string')).toBe(true);
    expect(obj._body).toMatch(/^UP /);
    esl.close();
  });

  it('wrong password: -ERR invalid, a disconnect notice without session, then close', async () => {
    const esl = await RawEsl.connect(port);
    await esl.next();
    const reply = await esl.command('auth wrongpassword');
    expect(frameHeader(reply, 'Reply-Text')).toBe('-ERR invalid');
    const notice = await esl.next();
    expect(notice.headers).toEqual([
      ['Content-Type', 'text/disconnect-notice'],
      ['Content-Length', '67'],
    ]);
    await esl.waitClosed();
    expect(peer.inbound.authAttempts).toHaveLength(1);
  });

  it('commands before auth get -ERR command not found', async () => {
    const esl = await RawEsl.connect(port);
    await esl.next();
    expect(frameHeader(await esl.command('api status'), 'Reply-Text')).toBe('-ERR command not found');
    esl.close();
  });

  it('originate failures reply -ERR <cause>; busy, failure and whole-second no-answer', async () => {
    peer.consumers.set('+15550000001', { kind: 'busy' });
    peer.consumers.set('+15550000002', { kind: 'fail', cause: 'UNALLOCATED_NUMBER' });
    peer.consumers.set('+15550000003', { kind: 'no_answer' });
    const esl = await login();
    expect((await esl.command('api originate sofia/gateway/carrier/+15550000001 &park')).body).toBe('-ERR USER_BUSY\n');
    expect((await esl.command('api originate sofia/gateway/carrier/+15550000002 &park')).body).toBe('-ERR UNALLOCATED_NUMBER\n');
    const t0 = Date.now();
    expect((await esl.command('api originate {originate_timeout=1}sofia/gateway/carrier/+15550000003 &park')).body).toBe('-ERR NO_ANSWER\n');
    expect(Date.now() - t0).toBeLessThanOrEqual(1100);
    esl.close();
  });

  it('originate ... &socket(): the answered leg connects to the app carrying the originate variables', async () => {
    const app = new RawAppServer();
    const appPort = await app.listen();
    const esl = await login();
    const reply = await esl.command(
      `bgapi originate {origination_caller_id_number=+18005550100,originate_timeout=20,callx_call_id=call-1,callx_campaign_id=camp-9}sofia/gateway/carrier/+12025550123 '&socket(127.0.0.1:${appPort} async full)'`,
    );
    expect(frameHeader(reply, 'Reply-Text')).toMatch(/^\+OK Job-UUID: /);
    const call = await app.accept();
    const data = await call.command('connect');
    expect(frameHeader(data, 'Call-Direction')).toBe('outbound');
    expect(frameHeader(data, 'Caller-Caller-ID-Number')).toBe('%2B18005550100');
    expect(frameHeader(data, 'Caller-Destination-Number')).toBe('%2B12025550123');
    expect(frameHeader(data, 'variable_callx_call_id')).toBe('call-1');
    expect(frameHeader(data, 'variable_callx_campaign_id')).toBe('camp-9');
    expect(frameHeader(data, 'Answer-State')).toBe('answered');
    expect(frameHeader(data, 'variable_current_application')).toBe('socket');
    call.send('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' });
    await call.waitClosed();
    await app.close();
    esl.close();
  });

  it('robustness helpers: drop connections, inject garbage, stall', async () => {
    const a = await login();
    peer.inbound.injectRaw('garbage without framing\n\n');
    const g = await a.next();
    expect(g.headers[0]?.[0]).toBe('garbage without framing');
    peer.inbound.stall(true);
    a.send('api status');
    await expect(a.next(() => true, 200)).rejects.toThrow('timed out');
    peer.inbound.stall(false);
    peer.inbound.dropConnections();
    await a.waitClosed();
    expect(peer.inbound.connectionCount).toBe(0);
  });
});
