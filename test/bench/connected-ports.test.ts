/**
 * bench:cps finds which Postgres backends serve which of its processes by the local ports of their connections
 * (bench/load/proc-cpu.ts connectedLocalPorts): a connection this process holds is found under its own pid and
 * port, and not under another process's pid, so Postgres's CPU is not given to the wrong process.
 */
import { Pool } from 'pg';
import { TEST_DATABASE_URL } from '../support/infra';
import { connectedLocalPorts } from '../../bench/load/proc-cpu';

const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
afterAll(() => pool.end());

test('a connection to Postgres is found under the pid that holds it, and only there', async () => {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ client_port: number }>('SELECT client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    const port = rows[0]!.client_port;
    const pgPort = Number(new URL(TEST_DATABASE_URL).port || 5432);
    expect(await connectedLocalPorts([process.pid], pgPort)).toContain(port);
    expect(await connectedLocalPorts([process.ppid], pgPort)).not.toContain(port);
    expect(await connectedLocalPorts([process.pid], pgPort + 1)).not.toContain(port);
  } finally {
    client.release();
  }
});
