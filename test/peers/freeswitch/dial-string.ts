/**
 * FreeSWITCH dial strings as bridge and originate read them:
 * `{global=vars}[local=vars]sofia/profile/user@host|[...]sofia/gateway/gw/number` (`|` tries endpoints in turn,
 * `,` rings them at once). `{^^:a=1:b=2}` changes the variable separator.
 */

export interface DialEndpoint {
  /** The endpoint as written, without its variables: `sofia/external/buyer@127.0.0.1:5090`. */
  target: string;
  vars: Record<string, string>;
}

export interface DialString {
  globalVars: Record<string, string>;
  /** Failover groups tried in order; the endpoints of one group ring simultaneously. */
  groups: DialEndpoint[][];
}

function parseVarList(body: string): Record<string, string> {
  let sep = ',';
  let text = body;
  if (text.startsWith('^^') && text.length >= 3) {
    sep = text[2] as string;
    text = text.slice(3);
  }
  const vars: Record<string, string> = {};
  // A backslash escapes the separator inside a value.
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && text[i + 1] === sep) {
      cur += sep;
      i++;
    } else if (ch === sep) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    let value = part.slice(eq + 1);
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    vars[part.slice(0, eq).trim()] = value;
  }
  return vars;
}

/** Reads a leading `{...}`, `<...>` or `[...]` block; returns the vars and the rest. */
function takeVars(s: string, open: string, close: string): [Record<string, string>, string] {
  if (!s.startsWith(open)) return [{}, s];
  const end = s.indexOf(close);
  if (end < 0) return [{}, s];
  return [parseVarList(s.slice(1, end)), s.slice(end + 1)];
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[' || ch === '{' || ch === '<') depth++;
    else if (ch === ']' || ch === '}' || ch === '>') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

export function parseDialString(input: string): DialString {
  let rest = input.trim();
  let globalVars: Record<string, string> = {};
  for (;;) {
    const before = rest;
    let v: Record<string, string>;
    [v, rest] = takeVars(rest, '{', '}');
    globalVars = { ...globalVars, ...v };
    [v, rest] = takeVars(rest, '<', '>');
    globalVars = { ...globalVars, ...v };
    if (rest === before) break;
  }
  const groups = splitTopLevel(rest, '|')
    .map((group) =>
      splitTopLevel(group, ',')
        .map((ep) => ep.trim())
        .filter((ep) => ep !== '')
        .map((ep) => {
          const [vars, target] = takeVars(ep, '[', ']');
          return { target: target.trim(), vars };
        }),
    )
    .filter((g) => g.length > 0);
  return { globalVars, groups };
}

/**
 * Keys a scripted endpoint can be registered under, most specific first:
 * the whole target, the part after the sofia profile or gateway, and the user part.
 */
export function endpointKeys(target: string): string[] {
  const keys = [target];
  const m = /^sofia\/(?:gateway\/[^/]+|[^/]+)\/(.+)$/.exec(target) ?? /^[^/]+\/(?:[^/]+\/)?(.+)$/.exec(target);
  const tail = m ? (m[1] as string) : target;
  const noScheme = tail.replace(/^sips?:/, '');
  if (!keys.includes(noScheme)) keys.push(noScheme);
  const user = noScheme.split('@')[0] as string;
  if (!keys.includes(user)) keys.push(user);
  return keys;
}

/** The user part FreeSWITCH puts in Caller-Destination-Number for the endpoint. */
export function endpointUser(target: string): string {
  const keys = endpointKeys(target);
  return keys[keys.length - 1] as string;
}
