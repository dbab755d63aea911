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
import { flagsOrExit, UsageError } from '../app/util/cli-flags';

const USAGE = `npm run simulate -- [options]

  --cps <n>               calls placed per second (default 10)
  --seconds <n>           how long to place calls (default 10)
  --dnis <list>           tracking numbers to call, comma-separated (default +18885550100)
  --talk-ms <ms>          how long a caller talks once bridged (default 2000)
  --buyer-answer-ms <ms>  how long buyers ring before answering (default 50)
  --switch <name>         freeswitch (default) or asterisk
  FreeSWITCH: --app <host:port>    the exchange's outbound socket server (default 127.0.0.1:8084)
              --esl-port <port>    where the peer serves inbound ESL (default 8021; 0: none)
              --esl-password <pw>  default $FS_ESL_PASSWORD
  Asterisk:   --ari-port <port>    where the peer serves ARI (default 8088)
              --ari-password <pw>  default $ARI_PASSWORD
              --ari-app <name>     default $ARI_APP or callx
  --help                  this text`;

const FLAGS = flagsOrExit(process.argv.slice(2), {
  values: ['cps', 'seconds', 'dnis', 'talk-ms', 'buyer-answer-ms', 'switch', 'app', 'esl-port', 'esl-password', 'ari-port', 'ari-password', 'ari-app'],
}, USAGE);

function arg(name: string, fallback: string): string {
  return FLAGS.get(name) ?? fallback;
}

function positive(name: string, fallback: string): number {
  const v = Number(arg(name, fallback));
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number, not "${arg(name, fallback)}"`);
  return v;
}

function whole(name: string, fallback: string, min: number, max: number): number {
  const v = Number(arg(name, fallback));
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${arg(name, fallback)}"`);
  return v;
}

async function main(): Promise<void> {
  const switchName = arg('switch', 'freeswitch');
  if (switchName !== 'freeswitch' && switchName !== 'asterisk') throw new UsageError(`--switch must be freeswitch or asterisk, not "${switchName}"`);
  const [host, port] = arg('app', '127.0.0.1:8084').split(':');
  if (!host || !port || !/^\d+$/.test(port)) throw new UsageError(`--app must be host:port, not "${arg('app', '')}"`);
  const cps = positive('cps', '10');
  const seconds = positive('seconds', '10');
  const dnis = arg('dnis', '+18885550100').split(',');
  const buyerAnswerMs = positive('buyer-answer-ms', '50');
  let placer: CallPlacer;
  if (switchName === 'asterisk') {
    const app = arg('ari-app', process.env.ARI_APP ?? 'callx');
    const peer = new AsteriskPeer({ app, record: false, playbackMs: 500, username: process.env.ARI_USERNAME ?? 'callx', password: arg('ari-password', process.env.ARI_PASSWORD ?? 'ChangeMe-ARI-Password') });
    peer.buyers.fallback = { kind: 'answer', afterMs: buyerAnswerMs };
    peer.consumers.fallback = { kind: 'answer', afterMs: 500 };
    const ariPort = whole('ari-port', '8088', 1, 65535);
    await peer.listen(ariPort, '127.0.0.1');
    process.stderr.write(`serving ARI on ${peer.url}; waiting for the exchange (SWITCHES=asterisk ARI_URL=${peer.url}) to connect...\n`);
    while (peer.eventConnections === 0) await new Promise((r) => setTimeout(r, 200));
    placer = asteriskPlacer(peer);
  } else {
    const eslPort = whole('esl-port', '8021', 0, 65535);
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
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`simulate failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
