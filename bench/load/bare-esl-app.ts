/**
 * The floor under `exchange_cpu_ms_per_call`: a bare outbound-socket app that speaks to the FreeSWITCH peer exactly
 * as the exchange's adapter does for a bridged call, and does nothing else: no screening, no auction, no Redis, no
 * journal, no log lines. Same commands in the same socket writes (connect + linger; filter + `event json` once the
 * connect reply is in; `api uuid_setvar_multi` + the bridge's sendmsg, after a turn of the event loop as if a
 * decision had been taken), the adapter's own framer for what comes back, and the socket closed on the linger
 * notice. `bench:cps -- --mode bare` runs it in place of the exchange, so its CPU per call is what Node and the
 * protocol alone cost on the machine at that rate.
 *
 * Environment: FS_OUTBOUND_HOST, FS_OUTBOUND_PORT (the socket the dialplan connects to), HTTP_HOST, HTTP_PORT
 * (`GET /ready` answers 200 once listening, as the exchange's does).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { CALLER_VARIABLES } from '../../app/switch/freeswitch/call-leg';
import { EslFramer, type EslFrame } from '../../app/switch/freeswitch/esl-framer';
import { CALL_EVENTS } from '../../app/switch/freeswitch/esl-socket';

const SUBSCRIBE = `event json ${CALL_EVENTS.join(' ')}`;
/** What the adapter sets on a caller whose dialplan did not (the bench's peer sets none), before its call id. */
const ASSIGNMENTS = CALLER_VARIABLES.map(([k, v]) => `${k}=${v}`).join(';');
let calls = 0;

function serveCall(sock: Socket): void {
  const framer = new EslFramer();
  let uuid: string | undefined;
  const callId = `bare-${++calls}`;
  sock.setNoDelay(true);
  sock.on('error', () => undefined);
  const onFrame = (frame: EslFrame): void => {
    if (uuid === undefined) {
      uuid = frame.head.member('Unique-ID');
      if (uuid === undefined) return;
      const id = uuid;
      sock.write(`filter Unique-ID ${id}\n\n${SUBSCRIBE}\n\n`);
      setImmediate(() => {
        if (sock.destroyed) return;
        sock.write(
          `api uuid_setvar_multi ${id} ${ASSIGNMENTS};callx_call_id=${callId}\n\n` +
            `sendmsg ${id}\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: {callx_call_id=${callId}}sofia/gateway/buyers/+15551230001\nevent-uuid: ${id.slice(0, 8)}-e000-4000-8000-000000000001\n\n`,
        );
      });
      return;
    }
    if (frame.head.member('Content-Type') === 'text/disconnect-notice') sock.destroy();
  };
  sock.on('data', (chunk: Buffer) => {
    const failed = framer.feed(chunk, onFrame);
    if (failed) sock.destroy();
  });
  sock.write('connect\n\nlinger\n\n');
}

const host = process.env.FS_OUTBOUND_HOST ?? '127.0.0.1';
const port = Number(process.env.FS_OUTBOUND_PORT ?? '8084');
const server = createServer({ noDelay: true }, serveCall);
server.listen(port, host, () => {
  createHttpServer((req, res) => {
    res.writeHead(req.url === '/ready' ? 200 : 404).end();
  }).listen(Number(process.env.HTTP_PORT ?? '3000'), process.env.HTTP_HOST ?? '127.0.0.1');
});
process.on('SIGTERM', () => process.exit(0));
