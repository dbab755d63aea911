/**
 * What the FreeSWITCH peer itself costs per call, without an exchange: calls placed through the peer to a bare
 * outbound-socket app in this process that sends the exchange's commands (connect, linger, filter, `event json`
 * of the call events, a bridge, exit after the linger notice), `--concurrent` calls at a time, the caller hanging
 * up right after the bridge. Prints per round `peer_cost_cpu_us_per_call` (this process's CPU: the peer and the
 * bare app, whose share does not change with the peer's renderer), `peer_cost_allocated_kb_per_call` (JS heap
 * allocated) and `peer_cost_gc_pause_ms_per_call`. The first round warms up.
 *
 *   npx tsx bench/load/peer-cost.ts [--calls 2000 --rounds 4 --concurrent 50 --peer-detail full|lean --heap-profile file]
 *
 * `--heap-profile file` writes a sampling heap profile of the last round that keeps collected objects (where the
 * allocation goes, garbage included; open it in Chrome DevTools' Memory tab). For CPU, run under
 * `node --cpu-prof --import tsx`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import { FreeSwitchPeer } from '../../test/peers/freeswitch';
import { FrameReader } from '../../test/peers/freeswitch/wire';
import { benchFlags } from './bench-args';
import { startHeapWindow } from './heap-allocation';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['calls', 'rounds', 'concurrent', 'peer-detail', 'heap-profile'],
  switches: [],
  usage: `npx tsx bench/load/peer-cost.ts [-- options]

  --calls <n>              calls per round (default 2000)
  --rounds <n>             rounds, the first a warm-up (default 4)
  --concurrent <n>         calls in flight at once (default 50)
  --peer-detail <detail>   full (default: events as big as a real switch's) or lean
  --heap-profile <file>    a sampling heap profile of the last round, collected objects included
  --help                   this text`,
});
const CALLS = FLAGS.number('calls', 2000, { min: 1, integer: true });
const ROUNDS = FLAGS.number('rounds', 4, { min: 1, integer: true });
const CONCURRENT = FLAGS.number('concurrent', 50, { min: 1, integer: true });
const DETAIL = FLAGS.oneOf('peer-detail', ['full', 'lean'], 'full');
const HEAP_PROFILE = FLAGS.has('heap-profile') ? FLAGS.string('heap-profile', '') : undefined;

const CALL_EVENTS = 'CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_EXECUTE_COMPLETE';

/** The app side of one call: the exchange's commands, in its order, from bytes read with the peer's framer. */
function serveCall(sock: Socket): void {
  const reader = new FrameReader();
  let step = 0;
  sock.setNoDelay(true);
  sock.on('error', () => undefined);
  sock.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      if (step === 0) {
        const uuid = f.lines.find((l) => l.startsWith('Unique-ID: '))?.slice(11) ?? '';
        step = 1;
        sock.write(
          `linger\n\nfilter Unique-ID ${uuid}\n\nevent json ${CALL_EVENTS}\n\n` +
            `sendmsg\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: {callx_call_id=${uuid}}sofia/gateway/buyers/+15551230001\nevent-uuid: ${uuid.slice(0, 8)}-e000-4000-8000-000000000001\n\n`,
        );
      } else if (f.lines.some((l) => l === 'Content-Disposition: linger')) {
        sock.write('exit\n\n');
      }
    }
  });
  sock.write('connect\n\n');
}

async function main(): Promise<void> {
  const server = createServer(serveCall);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const peer = new FreeSwitchPeer({ detail: DETAIL, record: false });
  peer.buyers.fallback = { kind: 'answer', afterMs: 1 };
  let ani = 2_000_000;
  const one = async (): Promise<void> => {
    const call = peer.placeCall({ app: { host: '127.0.0.1', port }, ani: `+1813${ani++}`, dnis: '+18885550500', hangupAfterBridgeMs: 0 });
    const record = await call.finished;
    if (!record.bridges.some((b) => b.result === 'SUCCESS')) throw new Error(`a call did not bridge: ${JSON.stringify(record)}`);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const session = HEAP_PROFILE && round === ROUNDS - 1 ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    const heap = startHeapWindow();
    const cpu0 = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENT, CALLS) }, async () => {
        while (next < CALLS) {
          next++;
          await one();
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const h = heap.stop();
    if (session && HEAP_PROFILE) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(HEAP_PROFILE, JSON.stringify(profile));
      session.disconnect();
    }
    const extra = { round, warmup: round === 0, calls: CALLS, concurrent: CONCURRENT, peer_detail: DETAIL, loadavg: os.loadavg()[0]?.toFixed(1) };
    const line = (name: string, value: number, unit: string, more: Record<string, unknown> = {}): void => {
      process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, ...extra, ...more })}\n`);
    };
    line('peer_cost_cpu_us_per_call', (cpu.user + cpu.system) / CALLS, 'us');
    line('peer_cost_allocated_kb_per_call', h.allocatedBytes / 1024 / CALLS, 'KB');
    line('peer_cost_gc_pause_ms_per_call', h.pauseMs / CALLS, 'ms', { scavenges: h.scavenges, collections: h.collections, max_pause_ms: Math.round(h.maxPauseMs * 10) / 10 });
  }
  await peer.close();
  await new Promise<void>((r) => server.close(() => r()));
}

main().catch((err: Error) => {
  process.stderr.write(`peer-cost failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
