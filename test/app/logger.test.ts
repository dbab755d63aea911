import { Writable } from 'node:stream';
import pino from 'pino';
import { lazyChild } from '../../app/observability/logger';

/** A pino root logger writing into an array of parsed lines (time left out, so lines compare). */
function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) {
        const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
        lines.push(rest);
      }
      done();
    },
  });
  return { root: pino({ level, base: { app: 'callx' } }, sink), lines };
}

describe('lazyChild', () => {
  it('writes the same lines as a pino child, with its bindings, merged object and formatted message', () => {
    const lazy = capture('debug');
    const eager = capture('debug');
    for (const [log, other] of [[lazyChild(lazy.root, { callId: 'c1' }), eager.root.child({ callId: 'c1' })]] as const) {
      log.info({ targetId: 't1' }, 'call bridged');
      log.warn('plain %s', 'message');
      log.error({ err: 'boom' }, 'failed');
      log.debug({ n: 1 }, 'detail');
      other.info({ targetId: 't1' }, 'call bridged');
      other.warn('plain %s', 'message');
      other.error({ err: 'boom' }, 'failed');
      other.debug({ n: 1 }, 'detail');
    }
    expect(lazy.lines).toHaveLength(4);
    expect(lazy.lines).toEqual(eager.lines);
    expect(lazy.lines[0]).toMatchObject({ app: 'callx', callId: 'c1', targetId: 't1', msg: 'call bridged', level: 30 });
    expect(lazy.lines[1]).toMatchObject({ msg: 'plain message', level: 40 });
  });

  it('gives a child of a lazy child both sets of bindings', () => {
    const { root, lines } = capture('info');
    lazyChild(root, { callId: 'c2', channel: 'ch-1' }).child({ buyerChannel: 'b-1' }).info('attempt');
    expect(lines).toEqual([expect.objectContaining({ callId: 'c2', channel: 'ch-1', buyerChannel: 'b-1', msg: 'attempt' })]);
  });

  it('writes nothing below the root level, and still writes what is at or above it', () => {
    const { root, lines } = capture('warn');
    const log = lazyChild(root, { callId: 'c3' });
    log.debug('no');
    log.info({ a: 1 }, 'no');
    expect(lines).toEqual([]);
    log.warn('yes');
    expect(lines).toEqual([expect.objectContaining({ callId: 'c3', msg: 'yes', level: 40 })]);
  });
});
