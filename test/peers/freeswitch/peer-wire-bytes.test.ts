/**
 * The peer's exact bytes: a fixed scenario (uuids, random tags and the clock pinned) run through the peer, every
 * byte each ESL socket received compared with test/fixtures/freeswitch/peer-wire-bytes.json.gz (gzipped JSON), captured from the
 * renderer as it was before events were rendered from cached pieces. Any change to what an app receives (a
 * header, its order, its encoding, a Content-Length) fails here; the shape of the bytes against the recordings is
 * checked by the other peer tests.
 *
 * Scenario: two inbound connections (`event json ALL`, `event plain` of a few names), then two calls one after the
 * other: one driven like the exchange drives it (connect, linger, filter, `event json`, set/export, a bridge the
 * caller ends, api uuid_dump and show channels on the side), one with `myevents plain` (a busy buyer with
 * continue_on_fail, a second bridge, the app hangs up), plus a bgapi. Run twice: the default `full` detail and `lean`.
 *
 * UPDATE_PEER_WIRE_BYTES=1 rewrites the fixture instead of comparing (only when the bytes are meant to change).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { FreeSwitchPeer } from './freeswitch-peer';
import { RawAppServer, RawEsl, frameHeader, parseEvent, type WireFrame } from './raw-esl';
import type { ChannelDetail } from './channel';

jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  let n = 0;
  return {
    ...actual,
    randomUUID: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    randomBytes: (size: number) => Buffer.alloc(size, 0xa5),
    __resetIds: () => {
      n = 0;
    },
  };
});

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'freeswitch', 'peer-wire-bytes.json.gz');
const NOW = new Date('2026-03-04T05:06:07.089Z');

/** Every byte a socket received, in order. */
function tap(esl: RawEsl): () => string {
  const chunks: Buffer[] = [];
  esl.socket.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

const isEvent = (name: string) => (f: WireFrame) =>
  /^text\/event-/.test(frameHeader(f, 'Content-Type') ?? '') && parseEvent(f).get('Event-Name') === name;
const isNotice = (f: WireFrame) => frameHeader(f, 'Content-Type') === 'text/disconnect-notice';

async function scenario(detail: ChannelDetail): Promise<Record<string, string>> {
  (jest.requireMock('node:crypto') as { __resetIds(): void }).__resetIds();
  const peer = new FreeSwitchPeer({ detail, identity: { coreUuid: 'c0de0000-0000-4000-8000-000000000000' } });
  const app = new RawAppServer();
  const appPort = await app.listen();
  const bytes: Record<string, () => string> = {};
  try {
    // Far ends answer 300 ms after the INVITE: well after the ringing (next turn of the loop) even on a loaded
    // machine, so every run fires the same events in the same order.
    peer.buyers.set('+15551230001', { kind: 'answer', afterMs: 300 });
    peer.buyers.set('+15551230002', { kind: 'busy', afterMs: 300 });
    peer.buyers.set('+15551230003', { kind: 'answer', afterMs: 300 });
    const eslPort = await peer.listenInbound();

    const all = await RawEsl.connect(eslPort);
    bytes.inbound_json_all = tap(all);
    await all.next();
    await all.command('auth ClueCon');
    await all.command('event json ALL');
    const some = await RawEsl.connect(eslPort);
    bytes.inbound_plain_some = tap(some);
    await some.next();
    await some.command('auth ClueCon');
    await some.command('event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB');

    // Call 1, driven the way the exchange drives it; the caller hangs up while bridged.
    const call1 = peer.placeCall({
      app: { host: '127.0.0.1', port: appPort },
      ani: '+12025550123',
      dnis: '+18005550100',
      sipHeaders: { 'X-Lead-Id': 'L-42', 'X-Zip': '30301' },
      variables: { sip_verstat_detailed: 'TN-Validation-Passed-A', odd_value: 'a b%c&d=é:+' },
    });
    const a = await app.accept();
    bytes.call1_json = tap(a);
    const connect = await a.command('connect');
    const uuid1 = frameHeader(connect, 'Unique-ID') as string;
    await a.command('linger');
    await a.command(`filter Unique-ID ${uuid1}`);
    await a.command('event json CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE_COMPLETE');
    const exec = (app: string, arg: string, uuid: string) =>
      a.command('sendmsg', { 'call-command': 'execute', 'execute-app-name': app, 'execute-app-arg': arg, 'event-uuid': uuid });
    await exec('set', 'callx_call_id=call-1', 'e1000000-0000-4000-8000-000000000001');
    await a.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await exec('export', 'nolocal:callx_leg=buyer', 'e1000000-0000-4000-8000-000000000002');
    await a.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await exec('bridge', '{origination_caller_id_number=+12025550123,leg_timeout=20}sofia/gateway/buyers/+15551230001', 'e1000000-0000-4000-8000-000000000003');
    await a.next(isEvent('CHANNEL_BRIDGE'));
    await some.command(`api uuid_dump ${uuid1}`);
    await some.command('api show channels as json');
    call1.callerHangup();
    await a.next(isNotice);
    await a.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await a.next((f) => isEvent('CHANNEL_EXECUTE_COMPLETE')(f) && parseEvent(f).get('Application') === 'socket');
    await a.command('exit');
    await call1.finished;
    await a.waitClosed();

    // Call 2: myevents plain, a busy buyer then one that answers, the app hangs up.
    const call2 = peer.placeCall({ app: { host: '127.0.0.1', port: appPort }, ani: '+13125550177', dnis: '+18005550101' });
    const b = await app.accept();
    bytes.call2_plain = tap(b);
    await b.command('connect');
    await b.command('myevents plain');
    await b.command('linger');
    const exec2 = (app: string, arg: string) => b.command('sendmsg', { 'call-command': 'execute', 'execute-app-name': app, 'execute-app-arg': arg });
    await exec2('answer', '');
    await b.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await exec2('set', 'continue_on_fail=true');
    await b.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await exec2('bridge', 'sofia/gateway/buyers/+15551230002');
    await b.next(isEvent('CHANNEL_EXECUTE_COMPLETE'));
    await exec2('bridge', 'sofia/gateway/buyers/+15551230003');
    await b.next(isEvent('CHANNEL_BRIDGE'));
    await some.command('bgapi uuid_exists ' + call2.channel.uuid, { 'Job-UUID': 'b9000000-0000-4000-8000-000000000001' });
    await some.next(isEvent('BACKGROUND_JOB'));
    await b.command('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' });
    await b.next(isEvent('CHANNEL_HANGUP_COMPLETE'));
    await b.command('exit');
    await call2.finished;
    await b.waitClosed();
    await some.command('api status');
    all.close();
    some.close();
    // The app's port (always 5 digits from the ephemeral range) is the one thing that differs between runs.
    const port = String(appPort);
    const out: Record<string, string> = {};
    for (const [k, read] of Object.entries(bytes)) {
      out[k] = read().split(`127.0.0.1:${port}`).join('127.0.0.1:PPPPP').split(`127.0.0.1%3A${port}`).join('127.0.0.1%3APPPPP');
    }
    return out;
  } finally {
    await peer.close();
    await app.close();
  }
}

describe('FreeSWITCH peer, exact wire bytes', () => {
  beforeEach(() => {
    // Only the clock is pinned; timers and I/O run for real.
    jest.useFakeTimers({
      now: NOW,
      doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'],
    });
  });
  afterEach(() => jest.useRealTimers());

  it('sends every reply and event byte for byte as the recorded renderer did (full and lean detail)', async () => {
    const got = { full: await scenario('full'), lean: await scenario('lean') };
    if (process.env.UPDATE_PEER_WIRE_BYTES === '1') {
      writeFileSync(FIXTURE, gzipSync(`${JSON.stringify(got, null, 1)}\n`, { level: 9 }));
      return;
    }
    const expected = JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8')) as typeof got;
    for (const detail of ['full', 'lean'] as const) {
      expect(Object.keys(got[detail])).toEqual(Object.keys(expected[detail]));
      for (const [socket, text] of Object.entries(expected[detail])) {
        // Compared per socket, with the socket named in the message, so a diff points at the first change.
        expect({ detail, socket, text: got[detail][socket] }).toEqual({ detail, socket, text });
      }
    }
  });
});
