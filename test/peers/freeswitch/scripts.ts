/**
 * Scripted far ends: buyers reached by `bridge`, consumers reached by `originate`. Each is keyed by the dialled
 * target (see endpointKeys) and says what the far end does with the INVITE.
 */
import { endpointKeys } from './dial-string';

export type EndpointScript =
  /** Rings, answers after `afterMs`; the far end hangs up `hangupAfterMs` after answering (if set). */
  | { kind: 'answer'; afterMs?: number; hangupAfterMs?: number }
  /** Replies 486 Busy Here after `afterMs` (USER_BUSY, sip:486). */
  | { kind: 'busy'; afterMs?: number }
  /** Rings until the originate timeout (NO_ANSWER; FreeSWITCH counts the timeout in whole seconds). */
  | { kind: 'no_answer' }
  /** Fails after `afterMs` with a cause such as NORMAL_TEMPORARY_FAILURE or UNALLOCATED_NUMBER. */
  | { kind: 'fail'; cause: string; afterMs?: number };

export class EndpointDirectory {
  private readonly scripts = new Map<string, EndpointScript>();

  constructor(public fallback: EndpointScript = { kind: 'answer', afterMs: 5 }) {}

  /** Registers a script under a dial target, a `sip:` URI, `user@host[:port]`, a user or an E.164 number. */
  set(key: string, script: EndpointScript): this {
    this.scripts.set(key.replace(/^sips?:/, ''), script);
    return this;
  }

  delete(key: string): void {
    this.scripts.delete(key.replace(/^sips?:/, ''));
  }

  clear(): void {
    this.scripts.clear();
  }

  lookup(target: string): EndpointScript {
    for (const key of endpointKeys(target)) {
      const s = this.scripts.get(key);
      if (s) return s;
    }
    return this.fallback;
  }
}
