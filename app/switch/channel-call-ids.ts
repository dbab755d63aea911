/**
 * What a switch adapter's sweep already knows of channels' call ids, so that it asks the switch once per channel,
 * not once per channel per sweep (every node sweeps every few seconds, and each request costs the switch). A leg's
 * call id is set once (a caller's before its first bridge, a buyer leg's at its originate) and never changes.
 * FreeSWITCH also notes a caller leg seen bridged without one, which is not ours and never will be (`NOT_OURS`).
 * `own` answers for the calls this node drives itself: their id once the switch has it, else NOT_OURS (only this
 * node sets it, and it drives them itself).
 */
export class ChannelCallIds {
  /** A caller leg that carries no call id of ours. */
  static readonly NOT_OURS = '';
  private readonly learnt = new Map<string, string>();

  constructor(private readonly own: (channelId: string) => string | undefined = () => undefined) {}

  /** The call id, NOT_OURS, or undefined when the switch must be asked. */
  get(channelId: string): string | undefined {
    return this.own(channelId) ?? this.learnt.get(channelId);
  }

  remember(channelId: string, callId: string): void {
    this.learnt.set(channelId, callId);
  }

  /** Forgets the channels that are no longer listed. */
  keepOnly(listed: ReadonlySet<string>): void {
    for (const channelId of this.learnt.keys()) if (!listed.has(channelId)) this.learnt.delete(channelId);
  }
}
