/**
 * The api commands the peer knows (`api` and `bgapi`): status, originate, uuid_kill, uuid_exists, uuid_getvar,
 * uuid_setvar_multi, uuid_dump, show channels, fsctl, version, hupall.
 * Reply texts follow mod_commands; an unknown command gets `-ERR <cmd> Command not found!\n`.
 */
import { PeerChannel } from './channel';
import { splitArgs } from './commands';
import type { PeerCore } from './core';
import { parseDialString } from './dial-string';
import { Originate, hangupOutgoingLeg } from './originate';
import { plainLines } from './wire';

export async function executeApi(core: PeerCore, command: string): Promise<string> {
  const sp = command.indexOf(' ');
  const name = sp < 0 ? command : command.slice(0, sp);
  const arg = sp < 0 ? '' : command.slice(sp + 1).trim();
  switch (name) {
    case 'status':
      return statusText(core);
    case 'version':
      return 'FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n';
    case 'uuid_exists':
      return core.live.has(arg) ? 'true' : 'false';
    case 'uuid_getvar': {
      const [uuid = '', name = ''] = arg.split(' ').filter((w) => w !== '');
      if (uuid === '' || name === '') return '-USAGE: <uuid> <var>\n';
      const target = core.live.get(uuid);
      if (!target) return '-ERR No such channel!\n';
      return target.channel.getVar(name) ?? '_undef_';
    }
    case 'uuid_setvar_multi': {
      // mod_commands: `<uuid> <var>=<value>;<var>=<value>...`, set at once (no event); +OK when any was set.
      const sp2 = arg.indexOf(' ');
      const uuid = sp2 < 0 ? arg : arg.slice(0, sp2);
      const vars = sp2 < 0 ? '' : arg.slice(sp2 + 1).trim();
      if (uuid === '' || vars === '') return '-USAGE: <uuid> <var>=<value>;<var>=<value>...\n';
      const target = core.live.get(uuid);
      if (!target) return '-ERR No such channel!\n';
      let set = 0;
      for (const pair of vars.split(';')) {
        const eq = pair.indexOf('=');
        const name = eq < 0 ? pair : pair.slice(0, eq);
        if (name === '') continue;
        target.channel.setVar(name, eq < 0 ? '' : pair.slice(eq + 1));
        set++;
      }
      return set > 0 ? '+OK\n' : '-USAGE: <uuid> <var>=<value>;<var>=<value>...\n';
    }
    case 'uuid_dump': {
      const [uuid = ''] = arg.split(' ');
      const target = core.live.get(uuid);
      if (!target) return '-ERR No such channel!\n';
      return plainLines(target.channel.dumpHeaders(core.identity, core.nextSequence()));
    }
    case 'show':
      return showApi(core, arg);
    case 'fsctl':
      return fsctlApi(core, arg);
    case 'uuid_kill': {
      if (arg === '') return '-USAGE: <uuid> [cause]\n';
      const [uuid = '', cause] = arg.split(' ');
      const target = core.live.get(uuid);
      if (!target) return '-ERR No such channel!\n';
      target.hangup(cause && cause !== '' ? cause : 'NORMAL_CLEARING');
      return '+OK\n';
    }
    case 'hupall': {
      const cause = arg.split(' ')[0] || 'MANAGER_REQUEST';
      for (const k of [...core.live.values()]) k.hangup(cause);
      return '+OK hangup all channels with cause ' + cause + '\n';
    }
    case 'originate':
      return originateApi(core, arg);
    default:
      return `-ERR ${name} Command not found!\n`;
  }
}

/** `show channels [as json]`: one row per live channel (callers and buyer legs), no variables (fact 11). */
function showApi(core: PeerCore, arg: string): string {
  const words = arg.split(' ').filter((w) => w !== '');
  if (words[0] !== 'channels') return `-USAGE: ${words[0] ?? ''}\n`;
  if (words[1] !== 'as' || words[2] !== 'json') return '-ERR the peer only serves `show channels as json`\n';
  const rows = [...core.live.values()].map((k) => k.channel.showChannelsRow(core.identity.hostname));
  if (rows.length === 0) return '{"row_count": 0}\n';
  return JSON.stringify({ row_count: rows.length, rows });
}

/** `fsctl sps N` and `fsctl max_sessions N` (mod_commands' replies). */
function fsctlApi(core: PeerCore, arg: string): string {
  const [what = '', value = ''] = arg.split(' ').filter((w) => w !== '');
  const n = Number.parseInt(value, 10);
  if (what === 'sps' && Number.isFinite(n)) {
    core.setSessionsPerSecond(n);
    return `+OK sessions per second: ${n}\n`;
  }
  if (what === 'max_sessions' && Number.isFinite(n)) {
    core.options.maxSessions = n;
    return `+OK max sessions: ${n}\n`;
  }
  return '-ERR the peer only serves fsctl sps N and fsctl max_sessions N\n';
}

function statusText(core: PeerCore): string {
  let us = (Date.now() - core.startedAt) * 1000;
  const part = (unit: number): number => {
    const v = Math.floor(us / unit);
    us -= v * unit;
    return v;
  };
  const years = part(365 * 86400e6);
  const days = part(86400e6);
  const hours = part(3600e6);
  const minutes = part(60e6);
  const seconds = part(1e6);
  const millis = part(1e3);
  const live = core.live.size;
  return (
    `UP ${years} years, ${days} days, ${hours} hours, ${minutes} minutes, ${seconds} seconds, ${millis} milliseconds, ${us} microseconds\n` +
    'FreeSWITCH (Version 1.10.12-release  64bit) is ready\n' +
    `${core.sessionsSinceStartup} session(s) since startup\n` +
    `${live} session(s) - peak ${core.peakSessions}, last 5min ${core.peakSessions} \n` +
    '0 session(s) per Sec out of max 30, peak 2, last 5min 2 \n' +
    '1000 session(s) max\n' +
    'min idle cpu 0.00/99.17\n' +
    'Current Stack Size/Max 240K/8192K\n'
  );
}

/**
 * `originate <dial string> <&app(args)|extension> [dialplan] [context] [cid name] [cid number] [timeout]`.
 * Replies `+OK <uuid>` once the far end answers, `-ERR <CAUSE>` otherwise. An answered leg then runs the
 * application: `&socket(host:port async full)` opens an outbound socket to the app, `&park` just waits.
 */
async function originateApi(core: PeerCore, arg: string): Promise<string> {
  const argv = splitArgs(arg);
  const [dialText, appText, , context, cidName, cidNumber, timeout] = argv;
  if (!dialText || !appText) return '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';
  const dial = parseDialString(dialText);
  if (timeout && dial.globalVars.originate_timeout === undefined) dial.globalVars.originate_timeout = timeout;
  const run = new Originate(core, {
    dial,
    directory: core.consumers,
    callerIdNumber: cidNumber ?? '0000000000',
    callerIdName: cidName ?? '',
    context: context ?? 'default',
  });
  const result = await run.done;
  if (!result.ok) return `-ERR ${result.cause}\n`;
  const leg = result.leg;
  const app = /^&([a-z_]+)(?:\((.*)\))?$/.exec(appText);
  leg.state = 'CS_EXECUTE';
  if (app && app[1] === 'socket' && app[2]) {
    const target = app[2];
    const hangupAfterMs = result.script.hangupAfterMs;
    // The consumer's hangup timer starts when the app has the call.
    setImmediate(() => core.startSocketSession(leg, target, hangupAfterMs === undefined ? {} : { hangupAfterMs }));
  } else {
    parkOriginated(core, leg, result.script.hangupAfterMs);
  }
  return `+OK ${leg.uuid}\n`;
}

/** An originated leg parked (or sent to an extension): it stays up until killed or its far end hangs up. */
function parkOriginated(core: PeerCore, leg: PeerChannel, hangupAfterMs: number | undefined): void {
  const end = (cause: string, disposition: string): void => {
    if (!leg.up) return;
    clearTimeout(timer);
    hangupOutgoingLeg(core, leg, cause, disposition);
  };
  const timer = hangupAfterMs === undefined ? undefined : setTimeout(() => end('NORMAL_CLEARING', 'recv_bye'), hangupAfterMs);
  core.register({ channel: leg, hangup: (cause) => end(cause, 'send_bye') });
}
