/**
 * Load generator: plays a switch (a test peer) against a running exchange and places calls at a set rate,
 * printing a live progress line and a summary.
 *
 *   npm run simulate -- --cps 20 --seconds 30 [--dnis +18885550100,...] [--talk-ms 2000] [--buyer-answer-ms 50]
 *       FreeSWITCH (default): [--app 127.0.0.1:8084] [--esl-port 8021] [--esl-password <FS_ESL_PASSWORD>]
 *       Asterisk:             --switch asterisk [--ari-port 8088] [--ari-password <ARI_PASSWORD>] [--ari-app callx]
 *
 * FreeSWITCH: the exchange must run with SWITCHES=freeswitch, FS_OUTBOUND_PORT matching --app and FS_ESL_PORT
 * matching --esl-port (the peer serves the inbound ESL endpoint there). Asterisk: the peer serves ARI on
 * --ari-port; the exchange runs with SWITCHES=asterisk and ARI_URL=http://127.0.0.1:<ari-port>, and calls start
 * once it has connected. Buyers answer after --buyer-answer-ms.
 */
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { AsteriskPeer } from '../test/peers/asterisk';
import { CallDriver, percentile, type CallPlacer } from './load/call-driver';
import { asteriskPlacer, freeswitchPlacer } from './load/placers';

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
  const dnis = arg('dnis', '+18885550100').split(',');
  const buyerAnswerMs = positive('buyer-answer-ms', '50');
  let placer: CallPlacer;
  if (arg('switch', 'freeswitch') === 'asterisk') {
    const app = arg('ari-app', process.env.ARI_APP ?? 'callx');
    const peer = new AsteriskPeer({ app, record: false, playbackMs: 500, username: process.env.ARI_USERNAME ?? 'callx', password: arg('ari-password', process.env.ARI_PASSWORD ?? 'ChangeMe-ARI-Password') });
    peer.buyers.fallback = { kind: 'answer', afterMs: buyerAnswerMs };
    peer.consumers.fallback = { kind: 'answer', afterMs: 500 };
    const ariPort = Number(arg('ari-port', '8088'));
    await peer.listen(ariPort, '127.0.0.1');
    process.stderr.write(`serving ARI on ${peer.url}; waiting for the exchange (SWITCHES=asterisk ARI_URL=${peer.url}) to connect...\n`);
    while (peer.eventConnections === 0) await new Promise((r) => setTimeout(r, 200));
    placer = asteriskPlacer(peer);
  } else {
    const [host, port] = arg('app', '127.0.0.1:8084').split(':');
    const eslPort = Number(arg('esl-port', '8021'));
    const peer = new FreeSwitchPeer({ detail: 'lean', record: false, playbackMs: 500, password: arg('esl-password', process.env.FS_ESL_PASSWORD ?? 'ChangeMe-ESL-Password') });
    peer.buyers.fallback = { kind: 'answer', afterMs: buyerAnswerMs };
    peer.consumers.fallback = { kind: 'answer', afterMs: 500 };
    if (eslPort > 0) await peer.listenInbound(eslPort, '127.0.0.1');
    placer = freeswitchPlacer(peer, { host: host!, port: Number(port) });
  }
  const driver = new CallDriver(placer, { dnis, talkMs: positive('talk-ms', '2000') });

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
    switch: placer.switchName,
    cps,
    seconds,
  })}\n`);
  process.exit(s.failed > 0 ? 1 : 0);
}

main().catch((err: Error) => {
  process.stderr.write(`simulate failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
