/**
 * CPU used by processes, read from /proc (Linux): the CPS benchmark takes one sample at the start of its steady
 * window and one at the end, and divides each process group's difference by the calls placed in between.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const USER_HZ = 100; // clock ticks per second of /proc/<pid>/stat times (100 on Linux)

interface StatFields {
  comm: string;
  ppid: number;
  /** utime + stime, in ms */
  ownMs: number;
  /** cutime + cstime (reaped children), in ms */
  childrenMs: number;
}

function readStat(pid: number): StatFields | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const ms = (i: number): number => (Number(f[i]) * 1000) / USER_HZ;
    return { comm, ppid: Number(f[1]), ownMs: ms(11) + ms(12), childrenMs: ms(13) + ms(14) };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a process has used so far; undefined if it is gone or /proc is missing. */
export function processCpuMs(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : readStat(pid)?.ownMs;
}

function allPids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/**
 * The Postgres cluster's CPU: the postmaster (a `postgres` process whose parent is not one), every live child
 * (backends, background writer, WAL writer, checkpointer, autovacuum, ...), and the children it already reaped
 * (cutime+cstime of the postmaster), so backends that came and went in the window still count.
 * On a machine shared with other work this counts their queries too: the benchmark reports an idle baseline.
 */
export function postgresClusterCpuMs(): number | undefined {
  const stats = new Map<number, StatFields>();
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s && s.comm.startsWith('postgres')) stats.set(pid, s);
  }
  let total = 0;
  let found = false;
  for (const s of stats.values()) {
    const isPostmaster = !stats.has(s.ppid);
    if (isPostmaster) {
      found = true;
      total += s.ownMs + s.childrenMs;
    } else {
      total += s.ownMs;
    }
  }
  return found ? total : undefined;
}

/** A named group of processes whose CPU is read together (e.g. two exchange nodes). */
export type CpuGroups = Record<string, () => number | undefined>;

export type CpuSample = Record<string, number | undefined>;

export function sampleCpu(groups: CpuGroups): CpuSample {
  return Object.fromEntries(Object.entries(groups).map(([name, read]) => [name, read()]));
}

/** Per group: ms of CPU between two samples (undefined when either side could not be read). */
export function cpuBetween(a: CpuSample, b: CpuSample): Record<string, number | undefined> {
  return Object.fromEntries(
    Object.keys(a).map((name) => {
      const x = a[name];
      const y = b[name];
      return [name, x !== undefined && y !== undefined ? y - x : undefined];
    }),
  );
}

/** The sum of several processes' CPU (a group of pids), undefined if none can be read. */
export function pidsCpuMs(pids: Array<number | undefined>): number | undefined {
  let total: number | undefined;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) total = (total ?? 0) + ms;
  }
  return total;
}

/**
 * Local TCP ports of the sockets the given processes hold that are connected to `remotePort`. Asynchronous, and
 * without reading /proc/net/tcp when `ss` is there: with a bench's tens of thousands of TIME_WAIT sockets that
 * table takes 50-150 ms to produce and parse, which stalled the bench process (the switch peer, which times call
 * setups) every 500 ms and made most of the setup p99. `ss` asks the kernel for established sockets only.
 */
export async function connectedLocalPorts(pids: Array<number | undefined>, remotePort: number): Promise<Set<number>> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      for (const fd of await readdir(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]!);
        } catch {
          /* closed meanwhile */
        }
      }
    } catch {
      /* gone */
    }
  }
  const ports = new Set<number>();
  for (const [local, inode] of await connectedSockets(remotePort)) if (inodes.has(inode)) ports.add(local);
  return ports;
}

/** [local port, socket inode] of the established TCP sockets connected to `remotePort`: from `ss`, else /proc/net/tcp{,6}. */
async function connectedSockets(remotePort: number): Promise<Array<[number, string]>> {
  try {
    const { stdout } = await execFileAsync('ss', ['-Htne', 'state', 'established', 'dport', '=', `:${remotePort}`]);
    const out: Array<[number, string]> = [];
    for (const line of stdout.split('\n')) {
      // e.g. "0 0 127.0.0.1:43046 127.0.0.1:5432 timer:(...) ino:1166474 sk:1a66 ..."
      const local = /^\s*\d+\s+\d+\s+\S*:(\d+)\s/.exec(line);
      const ino = /\bino:(\d+)/.exec(line);
      if (local && ino) out.push([Number(local[1]), ino[1]!]);
    }
    return out;
  } catch {
    const out: Array<[number, string]> = [];
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = await readFile(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10) continue;
        const local = f[1]!.split(':')[1];
        const remote = f[2]!.split(':')[1];
        if (remote && parseInt(remote, 16) === remotePort && local) out.push([parseInt(local, 16), f[9]!]);
      }
    }
    return out;
  }
}

/**
 * Context switches of processes so far (from /proc/<pid>/status): voluntary ones are the event loop going to
 * sleep for want of work, each a wake-up later (few calls per wake-up at low rates); involuntary ones are the
 * scheduler taking the CPU away (a machine with more runnable work than cores).
 */
export function contextSwitches(pids: Array<number | undefined>): { voluntary: number; involuntary: number } {
  const total = { voluntary: 0, involuntary: 0 };
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      total.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      total.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}

/**
 * Read and write system calls made by these processes so far (/proc/<pid>/io syscr, syscw: read/readv/... and
 * write/writev/...). For a call node nearly all are socket reads and writes: one per round trip or batch, which
 * costs the kernel's side of the delivery too, whatever the load on the machine.
 */
export function ioSyscalls(pids: Array<number | undefined>): { reads: number; writes: number } {
  const total = { reads: 0, writes: 0 };
  for (const pid of pids) {
    if (pid === undefined) continue;
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      total.reads += Number(/^syscr:\s+(\d+)/m.exec(io)?.[1] ?? 0);
      total.writes += Number(/^syscw:\s+(\d+)/m.exec(io)?.[1] ?? 0);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return total;
}
