/**
 * What the FreeSWITCH adapter spends reading one bridged call's messages, without sockets or other processes: the
 * connect reply (the recorded one, test/fixtures/freeswitch/connect-reply.json) framed, parsed and turned into
 * CallInfo, and four JSON events of that channel (CHANNEL_BRIDGE, CHANNEL_UNBRIDGE and two
 * CHANNEL_EXECUTE_COMPLETE, ~7 KB each: the channel's headers and variables, as FreeSWITCH sends them) framed,
 * parsed and read as the leg reads them. One process, CPU time from process.cpuUsage: less moved by the machine's
 * load than a run through the peer.
 *
 *   npm run bench:esl-read [-- --calls 2000 --rounds 4]
 *
 * Prints `esl_read_cpu_us_per_call` per round (the first warms up) and `esl_read_bytes_per_call`.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { EslSocket } from '../app/switch/freeswitch/esl-socket';
import { callInfoFromChannelData } from '../app/switch/freeswitch/channel-data';
import type { EslHeaders } from '../app/switch/freeswitch/headers';
import type { CallLogger } from '../app/observability/logger';
import connectReply from '../test/fixtures/freeswitch/connect-reply.json';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const CALLS = arg('calls', 2000);
const ROUNDS = arg('rounds', 4);

const channel = (connectReply.headers as string[][]).filter(([name]) => name !== 'Content-Type') as Array<[string, string]>;
const decoded = channel.map(([k, v]): [string, string] => [k, decodeURIComponent(v)]);
const replyFrame = `Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n${channel.map(([k, v]) => `${k}: ${v}\n`).join('')}\n`;
/** An event of the channel: its headers with the event's name and what that event adds, in FreeSWITCH's compact JSON. */
const event = (name: string, extra: Array<[string, string]>): string => {
  const members = [['Event-Name', name] as [string, string], ...decoded.filter(([k]) => k !== 'Event-Name'), ...extra];
  const body = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
};
const now = `${Date.now()}000`;
const wire = Buffer.from(
  replyFrame +
    event('CHANNEL_BRIDGE', [['Other-Leg-Unique-ID', 'b-leg'], ['variable_bridge_uepoch', now]]) +
    event('CHANNEL_UNBRIDGE', [['Other-Leg-Unique-ID', 'b-leg'], ['variable_bridge_uepoch', now]]) +
    event('CHANNEL_EXECUTE_COMPLETE', [['Application', 'bridge'], ['Application-UUID', 'bridge-uuid'], ['variable_originate_disposition', 'SUCCESS']]) +
    event('CHANNEL_EXECUTE_COMPLETE', [['Application', 'socket'], ['Answer-State', 'hangup'], ['Hangup-Cause', 'NORMAL_CLEARING'], ['variable_end_uepoch', now], ['variable_hangup_cause', 'NORMAL_CLEARING'], ['variable_sip_hangup_disposition', 'recv_bye']]),
);

class QuietSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 0;
  destroyed = false;
  write(): boolean {
    return true;
  }
  cork(): void {}
  uncork(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as CallLogger;

/** The reads the leg makes of its events (call-leg.ts, outcome.ts) and of the channel data. */
function readEvent(h: EslHeaders): void {
  h.get('Unique-ID');
  h.get('Answer-State');
  h.get('Application');
  h.get('Application-UUID');
  h.get('Hangup-Cause');
  h.variable('originate_disposition');
  h.micros('variable_end_uepoch');
  h.micros('variable_answer_uepoch');
  h.micros('variable_bridge_uepoch');
  h.micros('Caller-Channel-Bridged-Time');
  h.micros('Caller-Channel-Answered-Time');
  h.variable('hangup_cause');
  h.variable('sip_hangup_disposition');
  h.eventTime();
}

async function oneCall(): Promise<number> {
  const socket = new QuietSocket();
  const conn = new EslSocket(socket as unknown as Socket, quiet);
  const connected = conn.command('connect', {}, 1000);
  let events = 0;
  conn.onEvent((_name, h) => {
    events++;
    readEvent(h);
  });
  socket.emit('data', wire);
  const { data } = await connected;
  const info = callInfoFromChannelData(data!);
  data!.micros('Caller-Channel-Answered-Time');
  data!.variable('park_timeout');
  data!.variable('callx_call_id');
  if (!info.switchCallId || events !== 4) throw new Error(`read ${events} events, uuid '${info.switchCallId}'`);
  return events;
}

async function main(): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) await oneCall();
    const used = process.cpuUsage(before);
    console.log(JSON.stringify({ name: 'esl_read_cpu_us_per_call', value: Math.round(((used.user + used.system) / CALLS) * 10) / 10, unit: 'us', round, calls: CALLS, warmup: round === 1 }));
  }
  console.log(JSON.stringify({ name: 'esl_read_bytes_per_call', value: wire.length, unit: 'bytes', events: 4 }));
}

void main();
