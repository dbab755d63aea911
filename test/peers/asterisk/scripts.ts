/**
 * Scripted far ends reached by `POST /channels` (originate): buyers and consumers. Each is keyed by the dialled
 * target (see `targetKeys`) and says what the far end does with the INVITE.
 */

export type EndpointScript =
  /**
   * Rings (unless `ring: false`), answers after `afterMs`; hangs up `hangupAfterMs` after answering (if set).
   * `stasisFirstMs`: StasisStart arrives this long *before* the Up state change (seen under load); default: after it.
   */
  | { kind: 'answer'; afterMs?: number; hangupAfterMs?: number; ring?: boolean; stasisFirstMs?: number }
  /** Replies 486 after `afterMs` (cause 17). Rings first if `ring` is set. */
  | { kind: 'busy'; afterMs?: number; ring?: boolean }
  /** Rings until the originate timeout: only ChannelDestroyed cause 19. */
  | { kind: 'no_answer' }
  /** Fails after `afterMs` with a Q.850 cause (e.g. 34 congestion, 21 rejected, 38 network out of order). */
  | { kind: 'fail'; cause: number; afterMs?: number };

/** A parsed `PJSIP/...` dial target: which endpoint must exist, and the keys a script may be registered under. */
export interface DialTarget {
  tech: string;
  /** The part after `PJSIP/` (the Dial event's dialstring). */
  resource: string;
  /** The PJSIP endpoint the call goes out through. */
  endpoint: string;
  keys: string[];
}

/**
 * `PJSIP/<endpoint>`, `PJSIP/<number>@<endpoint>` or `PJSIP/<endpoint>/sip:<user>@<host>[:port]` (chan_pjsip's
 * dial string forms).
 */
export function parseDialTarget(dial: string): DialTarget | undefined {
  const slash = dial.indexOf('/');
  if (slash <= 0) return undefined;
  const tech = dial.slice(0, slash);
  const resource = dial.slice(slash + 1);
  if (resource === '') return undefined;
  const uriAt = resource.indexOf('/');
  if (uriAt > 0) {
    const endpoint = resource.slice(0, uriAt);
    const uri = resource.slice(uriAt + 1);
    const bare = uri.replace(/^sips?:/i, '');
    const user = bare.split('@')[0] ?? bare;
    return { tech, resource, endpoint, keys: [uri, bare, user] };
  }
  const at = resource.lastIndexOf('@');
  if (at > 0) {
    const user = resource.slice(0, at);
    return { tech, resource, endpoint: resource.slice(at + 1), keys: [resource, user] };
  }
  return { tech, resource, endpoint: resource, keys: [resource] };
}

export class EndpointDirectory {
  private readonly scripts = new Map<string, EndpointScript>();

  constructor(public fallback: EndpointScript = { kind: 'answer', afterMs: 5 }) {}

  set(key: string, script: EndpointScript): this {
    this.scripts.set(key, script);
    return this;
  }

  has(key: string): boolean {
    return this.scripts.has(key);
  }

  delete(key: string): void {
    this.scripts.delete(key);
  }

  clear(): void {
    this.scripts.clear();
  }

  find(target: DialTarget): EndpointScript | undefined {
    for (const key of target.keys) {
      const s = this.scripts.get(key);
      if (s) return s;
    }
    return undefined;
  }
}
