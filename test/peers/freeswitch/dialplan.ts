/**
 * The channel variables the project's own dialplan (dialplan/callx.xml) sets on a carrier call before `socket`,
 * with `$${...}` taken from freeswitch-conf/autoload_configs/00_callx_vars.xml, so tests place calls exactly as
 * the shipped configuration would hand them over (`set` and `export` actions of callx_tracking_number).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function preprocessVariables(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'freeswitch-conf', 'autoload_configs', '00_callx_vars.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const vars: Record<string, string> = {};
  for (const m of text.matchAll(/<X-PRE-PROCESS\s+cmd="set"\s+data="([^="]+)=([^"]*)"\s*\/>/g)) vars[m[1] as string] = m[2] as string;
  return vars;
}

/** `name -> value` of every set/export before `socket` in the callx_tracking_number extension. */
export function callxDialplanVariables(): Record<string, string> {
  const pre = preprocessVariables();
  const xml = readFileSync(join(ROOT, 'dialplan', 'callx.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  const ext = /<extension name="callx_tracking_number">([\s\S]*?)<\/extension>/.exec(xml)?.[1] ?? '';
  const beforeSocket = ext.split(/<action application="socket"/)[0] ?? '';
  const out: Record<string, string> = {};
  for (const m of beforeSocket.matchAll(/<action application="(?:set|export)" data="([^=]+)=([^"]*)"\s*\/>/g)) {
    const value = (m[2] as string).replace(/\$\$\{([^}]+)\}/g, (_, name: string) => pre[name] ?? '');
    out[m[1] as string] = value;
  }
  return out;
}
