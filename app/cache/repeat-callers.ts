import type { Redis } from 'ioredis';

/**
 * Whether a caller called a campaign before (issue 15: the `repeatCaller` fact an RTB ping may share). One Redis
 * command per call, and only for campaigns that share the fact: SET ... GET marks the caller seen and answers
 * whether it already was, atomically, so two nodes deciding the same caller's calls agree on which came first.
 *
 * Key: `rtb-seen:<campaign id>:<E.164>`, kept for `windowDays` after the caller's last call.
 */
export class RepeatCallers {
  constructor(private readonly redis: Redis, private readonly windowDays: number) {}

  /** True when this caller called the campaign within the window; the call is remembered either way. */
  async seenBefore(campaignId: string, e164: string): Promise<boolean> {
    const previous = await this.redis.set(`rtb-seen:${campaignId}:${e164}`, '1', 'EX', this.windowDays * 86_400, 'GET');
    return previous !== null;
  }
}
