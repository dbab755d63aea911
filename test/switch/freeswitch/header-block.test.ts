/**
 * ESL header blocks read in place: every lookup answers what EslHeaders over parseHeaderLines' object answers (the
 * recorded connect reply, names repeated in other cases, lines without a value), and the connect reply's split into
 * reply headers and channel data keeps each name on its side.
 */
import { parseHeaderLines, unescapeValue } from '../../../app/switch/freeswitch/esl-framer';
import { HeaderBlock } from '../../../app/switch/freeswitch/header-block';
import { EslHeaders } from '../../../app/switch/freeswitch/headers';
import connectReply from '../../fixtures/freeswitch/connect-reply.json';

const recorded = (connectReply.headers as string[][]).map(([h, v]) => `${h}: ${v}`).join('\n');

function expectSameAsParsed(text: string, decode?: (v: string) => string): void {
  const block = HeaderBlock.parse(text);
  const fast = decode ? block.split(new Set(), decode)[1] : block;
  const record = parseHeaderLines(text, decode !== undefined);
  const parsed = new EslHeaders(record);
  const names = Object.keys(record).flatMap((k) => [k, k.toUpperCase(), k.toLowerCase(), `${k}-absent`]);
  for (const name of [...names, 'Unique-ID', 'Nothing-Like-It']) expect([name, fast.get(name)]).toEqual([name, parsed.get(name)]);
  expect(fast.entries()).toEqual(parsed.entries());
  expect(fast.entriesStartingWith(['variable_sip_h_x-', 'variable_sip_h_p-'])).toEqual(parsed.entriesStartingWith(['variable_sip_h_x-', 'variable_sip_h_p-']));
  expect(block.toRecord()).toEqual(parseHeaderLines(text));
}

describe('ESL header blocks read in place', () => {
  it('reads the recorded connect reply as the parsed object does, raw and URL-decoded', () => {
    expectSameAsParsed(recorded);
    expectSameAsParsed(recorded, unescapeValue);
  });

  it('answers repeated names, other cases, blank lines and lines without a value as the parsed object does', () => {
    const text = 'Event-Name: X\na-B: 1\n\nA-b: 2\na-B: 3\nEvent-Name: Y\nno-value\nsep-later\nk: v: w\nEmpty: ';
    expectSameAsParsed(text);
    const block = HeaderBlock.parse(text);
    expect(block.get('A-B')).toBe('2');
    expect(block.member('Event-Name')).toBe('Y');
    expect(block.get('no-value')).toBe('');
    expect(block.get('k')).toBe('v: w');
    expect(block.member('event-name')).toBeUndefined();
    // lookups past the first few use the length index
    expectSameAsParsed(Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'Name' : 'NAME'}-${i % 7}: v${i}`).join('\n'));
  });

  it('splits the connect reply into reply headers and channel data, each decoded when read', () => {
    const block = HeaderBlock.parse('Event-Name: CHANNEL_DATA\nUnique-ID: u-1\nReply-Text: %2BOK%0A\ncontrol: data\nControl: full');
    const names = new Set(['Reply-Text', 'Control']);
    const [reply, data] = block.split(names, unescapeValue);
    expect(reply.entries()).toEqual([
      ['Reply-Text', '+OK\n'],
      ['Control', 'full'],
    ]);
    expect(data.entries()).toEqual([
      ['Event-Name', 'CHANNEL_DATA'],
      ['Unique-ID', 'u-1'],
      ['control', 'data'],
    ]);
    expect(data.get('Control')).toBe('data');
    expect(data.get('Reply-Text')).toBeUndefined();
  });
});
