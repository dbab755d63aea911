/**
 * What the Asterisk adapter's REST client (AriHttpRest) spends on a bridged call's six requests (tag the caller,
 * ring, originate with variables, answer, add to the bridge, hang up the buyer), 8 calls at once, against a bare
 * HTTP server in a child process that answers as Asterisk does (204, or 200 with a channel for an originate). CPU
 * time of this process only (process.cpuUsage), so the server's work is not counted and the machine's load moves it
 * less than a run through the peer; system calls from /proc/self/io.
 *
 *   npm run bench:ari-rest [-- --calls 10000 --rounds 4]
 *
 * Prints per round (the first warms up): `ari_rest_cpu_us_per_request`, `ari_rest_write_syscalls_per_request`,
 * `ari_rest_read_syscalls_per_request`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { AriHttpRest } from '../app/switch/asterisk/ari-http-rest';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['calls', 'rounds'],
  usage: `npm run bench:ari-rest [-- options]

  --calls <n>   bridged calls per round, six requests each (default 10000)
  --rounds <n>  rounds, the first warms up (default 4)
  --help        this text`,
});
const CALLS = FLAGS.number('calls', 10_000, { min: 1, integer: true });
const ROUNDS = FLAGS.number('rounds', 4, { min: 1, integer: true });
const AT_ONCE = 8;
const REQUESTS_PER_CALL = 6;

/** The server: reads each request (head and Content-Length body) and answers at once. */
const SERVER = `
const net = require('node:net');
const channel = JSON.stringify({ id: 'callx-b-1', name: 'PJSIP/buyers-00000001', state: 'Down', protocol_id: '', caller: { name: '', number: '+12025550123' }, connected: { name: '', number: '' }, accountcode: '', dialplan: { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' }, creationtime: '2026-11-24T09:07:50.955+0000', language: 'en', channelvars: { CALLX_ATTESTATION: '', CALLX_LEAD_ID: '', CALLX_ZIP: '', CALLX_CALL_ID: 'c0ffee00-1234-4567-89ab-0123456789ab' } });
const common = 'Server: Asterisk/22.10.1\\r\\nDate: Mon, 07 Dec 2026 15:00:00 GMT\\r\\nCache-Control: no-cache, no-store\\r\\n';
const ok200 = 'HTTP/1.1 200 OK\\r\\n' + common + 'Content-Type: application/json\\r\\nContent-Length: ' + Buffer.byteLength(channel) + '\\r\\n\\r\\n' + channel;
const ok204 = 'HTTP/1.1 204 No Content\\r\\n' + common + '\\r\\n';
const server = net.createServer((s) => {
  let buf = '';
  s.setNoDelay(true);
  s.on('error', () => {});
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      const end = buf.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const length = Number((/content-length: (\\d+)/i.exec(head) || [0, 0])[1]);
      if (buf.length < end + 4 + length) return;
      buf = buf.slice(end + 4 + length);
      s.write(head.startsWith('POST /ari/channels?') ? ok200 : ok204);
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function syscalls(): { r: number; w: number } {
  const io = readFileSync('/proc/self/io', 'utf8');
  return { r: Number(/syscr: (\d+)/.exec(io)?.[1]), w: Number(/syscw: (\d+)/.exec(io)?.[1]) };
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const rest = new AriHttpRest({ url: `http://127.0.0.1:${port}`, username: 'callx', password: 'secret', restMs: 5000 });
  const callId = 'c0ffee00-1234-4567-89ab-0123456789ab';
  const oneCall = async (i: number): Promise<void> => {
    const caller = `1796656862.${i}`;
    const buyer = `callx-b-${i}`;
    await Promise.all([rest.setVariable(caller, 'CALLX_CALL_ID', callId), rest.ring(caller)]);
    await rest.originate({ endpoint: 'PJSIP/+15551230001@buyers', app: 'callx', appArgs: `buyer,${caller}`, callerId: '+12025550123', timeoutSec: 30, channelId: buyer, variables: { CALLX_CALL_ID: callId } });
    await rest.answer(caller);
    await rest.addChannels('callx-br-1', [caller, buyer]);
    await rest.hangup(buyer, 'NORMAL_CLEARING');
  };
  const run = async (calls: number): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: AT_ONCE }, async () => {
      while (next < calls) await oneCall(next++);
    }));
  };
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const io0 = syscalls();
      const cpu0 = process.cpuUsage();
      await run(CALLS);
      const cpu = process.cpuUsage(cpu0);
      const io = syscalls();
      const requests = CALLS * REQUESTS_PER_CALL;
      const line = { round, calls: CALLS, at_once: AT_ONCE, load: os.loadavg()[0] };
      const print = (name: string, value: number, unit: string): void => console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit, ...line }));
      print('ari_rest_cpu_us_per_request', (cpu.user + cpu.system) / requests, 'us');
      print('ari_rest_write_syscalls_per_request', (io.w - io0.w) / requests, 'write system calls');
      print('ari_rest_read_syscalls_per_request', (io.r - io0.r) / requests, 'read system calls');
    }
  } finally {
    rest.close();
    server.kill();
  }
}

void main();
