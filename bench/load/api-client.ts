/**
 * The HTTP load for bench:api, in a process of its own: requests at a fixed rate (open loop: a slow answer does
 * not slow the sending), a mix of calls list, call detail and bid updates, with keep-alive connections. Prints
 * one JSON line with the latencies.
 *   tsx bench/load/api-client.ts <base url> <admin key> <buyer key> <call ids, comma-separated> <target ids> <rps> <seconds> <warm-up seconds>
 */
async function main(): Promise<void> {
  const [base, adminKey, buyerKey, callList, targetList, rpsArg, secondsArg, warmupArg] = process.argv.slice(2) as [string, string, string, string, string, string, string, string];
  const warmupMs = Number(warmupArg ?? '0') * 1000;
  const calls = callList.split(',');
  const targets = targetList.split(',');
  const rps = Number(rpsArg);
  const seconds = Number(secondsArg);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const one = async (i: number): Promise<void> => {
    const kind = i % 20;
    const t0 = performance.now();
    let r: Response;
    if (kind < 9) r = await fetch(`${base}/v1/calls?limit=50`, { headers: { authorization: `Bearer ${adminKey}` } });
    else if (kind < 18) r = await fetch(`${base}/v1/calls/${calls[i % calls.length]}`, { headers: { authorization: `Bearer ${adminKey}` } });
    else {
      r = await fetch(`${base}/v1/targets/${targets[i % targets.length]}/bid`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${buyerKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ bidCents: 1000 + (i % 500) }),
      });
    }
    await r.arrayBuffer();
    if (t0 - started < warmupMs) return; // warm-up: JIT, connections, caches
    latencies.push(performance.now() - t0);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  };
  const started = performance.now();
  const total = (rps * (seconds * 1000 + warmupMs)) / 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rps));
      while (sent < due) {
        const p = one(sent++).catch(() => {
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
  const elapsed = (performance.now() - started - warmupMs) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 100) / 100;
  process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds: elapsed, p50: pct(0.5), p99: pct(0.99), statuses: Object.fromEntries(statuses) })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`api client failed: ${err.message}\n`);
  process.exit(1);
});
