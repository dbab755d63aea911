/**
 * The peer's settings that the repository's asterisk-conf/ files decide, read from those files so that tests run
 * the switch as the operator is told to configure it: ari.conf `channelvars`, and the pjsip.conf endpoints with
 * `send_connected_line = no`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AsteriskPeerOptions } from './asterisk-peer';

const CONF = join(__dirname, '..', '..', '..', 'asterisk-conf');

/** `[section]` -> its `key = value` lines (several sections may share a name, as pjsip.conf's do). */
function sections(text: string): Array<{ name: string; values: Map<string, string> }> {
  const out: Array<{ name: string; values: Map<string, string> }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    const head = /^\[([^\]]+)\]/.exec(line);
    if (head) out.push({ name: head[1] as string, values: new Map() });
    else if (line.includes('=') && out.length > 0) {
      const at = line.indexOf('=');
      out[out.length - 1]?.values.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
  }
  return out;
}

export function confPeerOptions(): Pick<AsteriskPeerOptions, 'channelvars' | 'noConnectedLine'> {
  const ari = sections(readFileSync(join(CONF, 'ari.conf'), 'utf8'));
  const channelvars = (ari.find((s) => s.name === 'general')?.values.get('channelvars') ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
  const pjsip = sections(readFileSync(join(CONF, 'pjsip.conf'), 'utf8'));
  const noConnectedLine = pjsip.filter((s) => s.values.get('type') === 'endpoint' && s.values.get('send_connected_line') === 'no').map((s) => s.name);
  return { channelvars, noConnectedLine };
}
