/**
 * bench:cps's Postgres-backend watcher, in a process of its own: every 500 ms it matches the exchange processes'
 * connections to Postgres (their sockets' local ports, bench/load/proc-cpu.ts) with pg_stat_activity, and reports
 * each backend it finds once, with whose connections it serves (a process name, or `background` for the cluster's
 * own processes). It used to run in the bench process, which is also the switch peer and the clock of the setup
 * figures: its thousands of /proc reads a second and its `ss` runs shared that event loop.
 *
 * Parent side: `startPostgresBackendWatcher(owners, databaseUrl)`; the child is this file run with `--child`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { connectedLocalPorts } from './proc-cpu';

interface Found {
  pid: number;
  owner: string;
}

export interface PostgresBackends {
  pids: Set<number>;
  byOwner: Map<string, Set<number>>;
  /** The watcher process (its CPU is the bench's own work, not the exchange's). */
  readonly watcherPid: number | undefined;
  stop(): Promise<void>;
}

/**
 * The Postgres processes that work for these owners (name -> pid): the backends of their connections and the
 * cluster's background processes. The sets only grow, filled as the watcher process reports.
 */
export function startPostgresBackendWatcher(owners: Record<string, number | undefined>, databaseUrl: string): PostgresBackends {
  const pids = new Set<number>();
  const byOwner = new Map<string, Set<number>>([['background', new Set()], ...Object.keys(owners).map((o) => [o, new Set<number>()] as [string, Set<number>])]);
  const child: ChildProcess = fork(__filename, ['--child', JSON.stringify({ owners, databaseUrl })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.on('message', (m: Found) => {
    pids.add(m.pid);
    byOwner.get(m.owner)?.add(m.pid);
  });
  child.on('error', (err) => process.stderr.write(`postgres-backend watcher: ${err.message}\n`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pids,
    byOwner,
    watcherPid: child.pid,
    async stop() {
      if (child.exitCode === null && child.connected) child.send('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

async function runChild(config: { owners: Record<string, number | undefined>; databaseUrl: string }): Promise<void> {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 1 });
  const pgPort = Number(new URL(config.databaseUrl).port || 5432);
  const seen = new Set<number>();
  let running = true;
  process.on('message', (m) => {
    if (m === 'stop') running = false;
  });
  process.on('disconnect', () => (running = false));
  while (running) {
    try {
      const ports = await Promise.all(Object.entries(config.owners).map(async ([owner, pid]) => [owner, await connectedLocalPorts([pid], pgPort)] as const));
      const { rows } = await pool.query<{ pid: number; client_port: number | null; backend_type: string }>('SELECT pid, client_port, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()');
      for (const r of rows) {
        const owner = r.backend_type !== 'client backend' ? 'background' : ports.find(([, p]) => r.client_port !== null && p.has(r.client_port))?.[0];
        if (owner === undefined || seen.has(r.pid)) continue;
        seen.add(r.pid);
        process.send?.({ pid: r.pid, owner } satisfies Found);
      }
    } catch (err) {
      process.stderr.write(`postgres-backend watcher: ${(err as Error).message}\n`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await pool.end();
  process.disconnect?.();
}

if (process.argv[2] === '--child') {
  runChild(JSON.parse(process.argv[3] ?? '{}') as { owners: Record<string, number | undefined>; databaseUrl: string }).catch((err: Error) => {
    process.stderr.write(`postgres-backend watcher failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
