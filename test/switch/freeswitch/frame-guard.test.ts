/**
 * The frame guard follows ESL framing across arbitrary chunk boundaries and flags what cannot be framed.
 */
import { FrameGuard } from '../../../app/switch/freeswitch/frame-guard';

const event = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;

describe('FrameGuard', () => {
  it('accepts well-framed input cut at every possible byte', () => {
    const stream = Buffer.from(
      'Content-Type: command/reply\nReply-Text: +OK\n\n' + event('{"Event-Name":"CHANNEL_ANSWER","x":"é"}') + 'Content-Type: auth/request\n\n',
    );
    for (let cut = 1; cut < stream.length; cut++) {
      const g = new FrameGuard();
      expect(g.feed(stream.subarray(0, cut), 0)).toBeUndefined();
      expect(g.feed(stream.subarray(cut), 0)).toBeUndefined();
      expect(g.stalled(1, 10)).toBeUndefined();
    }
  });

  it('flags a frame left half-sent for longer than the stall time', () => {
    const g = new FrameGuard();
    g.feed(Buffer.from('Content-Length: 100\nContent-Type: text/event-json\n\n{"a":'), 1000);
    expect(g.stalled(500, 1400)).toBeUndefined();
    expect(g.stalled(500, 1600)).toMatch(/frame incomplete for 600 ms \(\d+ body bytes missing\)/);
    g.feed(Buffer.from('x'.repeat(95)), 1700);
    expect(g.stalled(500, 5000)).toBeUndefined();
  });

  it('flags bad or huge Content-Length and endless headers', () => {
    expect(new FrameGuard().feed(Buffer.from('Content-Length: -1\n\n'))).toMatch(/bad Content-Length/);
    expect(new FrameGuard().feed(Buffer.from('Content-Length: 999999999\n\n'))).toMatch(/over the/);
    expect(new FrameGuard({ maxHeaderBytes: 100, maxBodyBytes: 1000 }).feed(Buffer.from('y'.repeat(200)))).toMatch(/no end of headers/);
  });
});
