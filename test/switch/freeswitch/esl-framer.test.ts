/**
 * The framer follows ESL framing across arbitrary chunk boundaries, hands out each frame once and whole, and
 * flags what cannot be framed.
 */
import { EslFramer, parseHeaderLines, unescapeValue, type EslFrame } from '../../../app/switch/freeswitch/esl-framer';

const event = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;

const STREAM = Buffer.from(
  'Content-Type: command/reply\nReply-Text: +OK\n\n' +
    event('{"Event-Name":"CHANNEL_ANSWER","x":"é"}') +
    '\n' + // a stray blank line between frames
    'Content-Type: api/response\nContent-Length: 4\n\n+OK\n' +
    'Content-Type: auth/request\n\n',
);

const collect = (framer: EslFramer, ...chunks: Buffer[]): { frames: EslFrame[]; errors: Array<string | undefined> } => {
  const frames: EslFrame[] = [];
  const errors = chunks.map((c) => framer.feed(c, (f) => frames.push(f), 0));
  return { frames, errors };
};

describe('EslFramer', () => {
  it('yields the same frames however the stream is cut', () => {
    const whole = collect(new EslFramer(), STREAM).frames;
    expect(whole.map((f) => [f.headers['Content-Type'], f.body])).toEqual([
      ['command/reply', undefined],
      ['text/event-json', '{"Event-Name":"CHANNEL_ANSWER","x":"é"}'],
      ['api/response', '+OK\n'],
      ['auth/request', undefined],
    ]);
    expect(whole[0]!.headers['Reply-Text']).toBe('+OK');
    for (let cut = 1; cut < STREAM.length; cut++) {
      const framer = new EslFramer();
      const { frames, errors } = collect(framer, STREAM.subarray(0, cut), STREAM.subarray(cut));
      expect(errors).toEqual([undefined, undefined]);
      expect(frames).toEqual(whole);
      expect(framer.stalled(1, 10)).toBeUndefined();
    }
  });

  it('yields the same frames when fed one byte at a time (a multi-byte character split too)', () => {
    const framer = new EslFramer();
    const frames: EslFrame[] = [];
    for (let i = 0; i < STREAM.length; i++) expect(framer.feed(STREAM.subarray(i, i + 1), (f) => frames.push(f), 0)).toBeUndefined();
    expect(frames).toEqual(collect(new EslFramer(), STREAM).frames);
  });

  it('joins a large body that arrives in many chunks', () => {
    const body = JSON.stringify({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', pad: 'z'.repeat(300_000) });
    const wire = Buffer.from(event(body));
    const framer = new EslFramer();
    const frames: EslFrame[] = [];
    for (let i = 0; i < wire.length; i += 16_384) framer.feed(wire.subarray(i, i + 16_384), (f) => frames.push(f), 0);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.body).toBe(body);
  });

  it('flags a frame left half-sent for longer than the stall time', () => {
    const framer = new EslFramer();
    framer.feed(Buffer.from('Content-Length: 100\nContent-Type: text/event-json\n\n{"a":'), () => undefined, 1000);
    expect(framer.stalled(500, 1400)).toBeUndefined();
    expect(framer.stalled(500, 1600)).toBe('frame incomplete for 600 ms (95 body bytes missing)');
    framer.feed(Buffer.from('x'.repeat(95)), () => undefined, 1700);
    expect(framer.stalled(500, 5000)).toBeUndefined();
    framer.feed(Buffer.from('Content-Type: comm'), () => undefined, 6000);
    expect(framer.stalled(500, 6600)).toBe('frame incomplete for 600 ms (headers unfinished)');
  });

  it('flags bad or huge Content-Length and endless headers, and stays failed', () => {
    const none = (): void => undefined;
    expect(new EslFramer().feed(Buffer.from('Content-Length: -1\n\n'), none)).toMatch(/bad Content-Length '-1'/);
    expect(new EslFramer().feed(Buffer.from('Content-Length: 999999999\n\n'), none)).toMatch(/over the 10485760 byte limit/);
    const small = new EslFramer({ maxHeaderBytes: 100, maxBodyBytes: 1000 });
    expect(small.feed(Buffer.from('y'.repeat(200)), none)).toMatch(/no end of headers after 200 bytes/);
    const frames: EslFrame[] = [];
    expect(small.feed(Buffer.from('Content-Type: auth/request\n\n'), (f) => frames.push(f))).toMatch(/no end of headers/);
    expect(frames).toEqual([]);
  });
});

describe('header lines', () => {
  it.each([
    ['Reply-Text: +OK accepted', { 'Reply-Text': '+OK accepted' }],
    ['Reply-Text: -ERR a: b', { 'Reply-Text': '-ERR a: b' }],
    ['Lone-Name', { 'Lone-Name': '' }],
    ['A: 1\n\nB: 2', { A: '1', B: '2' }],
  ])('%j', (text, expected) => {
    expect(parseHeaderLines(text)).toEqual(expected);
  });

  it('decodes URL-encoded values when asked, keeping a malformed escape', () => {
    expect(parseHeaderLines('Caller-Caller-ID-Name: Jos%C3%A9%20P', true)).toEqual({ 'Caller-Caller-ID-Name': 'José P' });
    expect(unescapeValue('100%')).toBe('100%');
    expect(unescapeValue('%2BOK%0A')).toBe('+OK\n');
    expect(unescapeValue('a%zzb%41')).toBe('a%zzbA');
  });
});
