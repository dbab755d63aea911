/**
 * The HTTP load for bench:api, in a process of its own: requests at a fixed rate (open loop: a slow answer does
 * not slow the sending), a mix of calls list, call detail and bid updates (or one kind alone), over at most 64 keep-alive connections (see raw-http.ts). Prints
 * one JSON line with the latencies. Before it, `{"phase":"steady"}` when the warm-up ends, so the server side can
 * count its CPU over the steady window only.
 *   tsx bench/load/api-client.ts <base url> <admin key> <buyer key> <call ids, comma-separated> <target ids> <rps> <seconds> <warm-up seconds> [mixed|list|detail|bid]
 */
import { RawHttpPool } from './raw-http';
import { pct } from './bench-args';

async function main(): Promise<void> {
  const [base, adminKey, buyerKey, callList, targetList, rpsArg, secondsArg, warmupArg, mixArg] = process.argv.slice(2) as [string, string, string, string, string, string, string, string, string | undefined];
  const mix = mixArg ?? 'mixed';
  const warmupMs = Number(warmupArg ?? '0') * 1000;
  const calls = callList.split(',');
  const targets = targetList.split(',');
  const rps = Number(rpsArg);
  const seconds = Number(secondsArg);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  // A lean keep-alive client rather than node:http or fetch: the load generator shares the machine with the
  // server under test, so it should spend as little CPU per request as it can.
  const pool = new RawHttpPool(base, 64);
  const adminHeaders = { Authorization: `Bearer ${adminKey}` };
  const buyerHeaders = { Authorization: `Bearer ${buyerKey}`, 'Content-Type': 'application/json' };
  const one = async (i: number): Promise<void> => {
    const kind = mix === 'list' ? 0 : mix === 'detail' ? 10 : mix === 'bid' ? 19 : i % 20;
    const t0 = performance.now();
    let status: number;
    if (kind < 9) status = await pool.request('GET', '/v1/calls?limit=50', adminHeaders);
    else if (kind < 18) status = await pool.request('GET', `/v1/calls/${calls[i % calls.length]}`, adminHeaders);
    else status = await pool.request('PATCH', `/v1/targets/${targets[i % targets.length]}/bid`, buyerHeaders, JSON.stringify({ bidCents: 1000 + (i % 500) }));
    if (t0 - started < warmupMs) return; // warm-up: JIT, connections, caches
    latencies.push(performance.now() - t0);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  const started = performance.now();
  const total = (rps * (seconds * 1000 + warmupMs)) / 1000;
  let steady = warmupMs === 0;
  if (steady) process.stdout.write('{"phase":"steady"}\n');
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (!steady && performance.now() - started >= warmupMs) {
        steady = true;
        process.stdout.write('{"phase":"steady"}\n');
      }
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rps));
      while (sent < due) {
        const p = one(sent++).catch((err: Error) => {
          if (!statuses.has(0)) process.stderr.write(`api client: a request failed (counted as status 0; later failures are only counted): ${err.message}\n`);
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  await Promise.all(inFlight);
  pool.close();
  const elapsed = (performance.now() - started - warmupMs) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(pct(latencies, p) * 100) / 100;
  process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds: elapsed, p50: at(0.5), p99: at(0.99), statuses: Object.fromEntries(statuses) })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`api client failed: ${err.message}\n`);
  process.exit(1);
});
