/**
 * The small part of `ari-client` 2.2.0 (untyped) the adapter uses. Every operation takes one options object and
 * returns a (bluebird) promise; rejections carry the response body as the error message (the status is lost).
 */
declare module 'ari-client' {
  type Params = Record<string, string | number | boolean | Record<string, string> | { allowed: Array<{ type: string }>; disallowed: unknown[] } | undefined>;
  type Operation = (params?: Params) => PromiseLike<unknown>;

  export interface AriClient {
    channels: {
      list: Operation;
      get: Operation;
      originate: Operation;
      answer: Operation;
      hangup: Operation;
      play: Operation;
      ring: Operation;
      progress: Operation;
      getChannelVar: Operation;
      setChannelVar: Operation;
      continueInDialplan: Operation;
    };
    bridges: {
      list: Operation;
      create: Operation;
      addChannel: Operation;
      destroy: Operation;
    };
    /** `filter` only when the switch's api-docs have it (Asterisk 13.26 / 16.3 and later). */
    applications?: {
      filter?: Operation;
    };
  }

  export function connect(url: string, username: string, password: string): PromiseLike<AriClient>;
}
