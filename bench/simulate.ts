/**
 * Load generator: plays a FreeSWITCH switch (the peer) against a running exchange and places calls at a set
 * rate, printing a live progress line and a summary.
 *
 *   npm run simulate -- --cps 20 --seconds 30 [--app 127.0.0.1:8084] [--esl-port 8021] [--dnis +18885550100,...]
 *                       [--talk-ms 2000] [--buyer-answer-ms 50] [--esl-password <FS_ESL_PASSWORD>]
 *
 * The exchange must run with SWITCHES=freeswitch, FS_OUTBOUND_PORT matching --app and FS_ESL_PORT matching
 * --esl-port (the peer serves the inbound ESL endpoint there). Buyers answer after --buyer-answer-ms.
 */
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { CallDriver, percentile } from './load/call-driver';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function positive(name: string, fallback: string): number {
  const v = Number(arg(name, fallback));
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const cps = positive('cps', '10');
  const seconds = positive('seconds', '10');
  const [host, port] = arg('app', '127.0.0.1:8084').split(':');
  const eslPort = Number(arg('esl-port', '8021'));
  const dnis = arg('dnis', '+18885550100').split(',');
  const peer = new FreeSwitchPeer({ detail: 'lean', record: false, playbackMs: 500, password: arg('esl-password', process.env.FS_ESL_PASSWORD ?? 'ChangeMe-ESL-Password') });
  peer.buyers.fallback = { kind: 'answer', afterMs: positive('buyer-answer-ms', '50') };
  peer.consumers.fallback = { kind: 'answer', afterMs: 500 };
  if (eslPort > 0) await peer.listenInbound(eslPort, '127.0.0.1');
  const driver = new CallDriver(peer, { app: { host: host!, port: Number(port) }, dnis, talkMs: positive('talk-ms', '2000') });

  const progress = (sec: number): void => {
    const s = driver.stats;
    process.stderr.write(`\r[${String(sec).padStart(4)}s] placed ${s.placed}  active ${s.active}  bridged ${s.bridged}  failed ${s.failed}  setup p50 ${percentile(s.setupMs, 0.5)} ms  p99 ${percentile(s.setupMs, 0.99)} ms   `);
  };
  await driver.runRate(cps, seconds, progress);
  const waiting = setInterval(() => progress(Math.round(seconds)), 1000);
  await driver.settle();
  clearInterval(waiting);
  progress(Math.round(seconds));
  process.stderr.write('\n');
  const s = driver.stats;
  process.stdout.write(`${JSON.stringify({
    calls: s.placed,
    bridged: s.bridged,
    failed: s.failed,
    failures: Object.fromEntries(s.errors),
    setup_p50_ms: percentile(s.setupMs, 0.5),
    setup_p90_ms: percentile(s.setupMs, 0.9),
    setup_p99_ms: percentile(s.setupMs, 0.99),
    cps,
    seconds,
  })}\n`);
  await peer.inbound.close();
  process.exit(s.failed > 0 ? 1 : 0);
}

main().catch((err: Error) => {
  process.stderr.write(`simulate failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
