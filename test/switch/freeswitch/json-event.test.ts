/**
 * JSON events read in place: every lookup answers what EslHeaders over JSON.parse's object answers, and any text
 * not in FreeSWITCH's compact form is left to JSON.parse (undefined here).
 */
import { EslHeaders } from '../../../app/switch/freeswitch/headers';
import { jsonEventHeaders } from '../../../app/switch/freeswitch/json-event';
import connectReply from '../../fixtures/freeswitch/connect-reply.json';
import { fsUrlDecode } from '../../peers/freeswitch';

/** FreeSWITCH's form: no whitespace, every value a string (JSON.stringify of a flat object of strings writes it). */
const compact = (members: Array<[string, string]>): string => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;

const recorded: Array<[string, string]> = (connectReply.headers as string[][]).map(([h, v]) => [h as string, fsUrlDecode(v as string)]);

/** Every name, in its case and others, and some absent ones: the fast reading and JSON.parse's agree. */
function expectSameAsJsonParse(text: string): void {
  const fast = jsonEventHeaders(text);
  expect(fast).toBeDefined();
  const parsed = new EslHeaders(JSON.parse(text) as Record<string, string>);
  const names = Object.keys(JSON.parse(text) as object).flatMap((k) => [k, k.toUpperCase(), k.toLowerCase(), `${k}-absent`]);
  for (const name of [...names, 'Unique-ID', 'Nothing-Like-It']) expect([name, fast!.get(name)]).toEqual([name, parsed.get(name)]);
  expect(fast!.entries()).toEqual(parsed.entries());
  expect(fast!.entriesStartingWith(['variable_sip_h_x-'])).toEqual(parsed.entriesStartingWith(['variable_sip_h_x-']));
  expect(fast!.micros('Event-Date-Timestamp')).toEqual(parsed.micros('Event-Date-Timestamp'));
}

describe('JSON events read in place', () => {
  it('reads a recorded channel as JSON.parse does', () => {
    expectSameAsJsonParse(compact(recorded));
  });

  it('decodes escapes, unicode and quotes inside values as JSON.parse does', () => {
    expectSameAsJsonParse(
      compact([
        ['Event-Name', 'CHANNEL_BRIDGE'],
        ['variable_sip_full_from', '"Caller \\ Name" <sip:+12025550123@carrier.example>;tag=a/b'],
        ['variable_sip_h_X-Note', 'tab\there, slash / and é ☎ \u{1F4DE}'],
        ['variable_empty', ''],
        ['variable_sip_h_x-lead-id', 'L-1'],
      ]),
    );
    const h = jsonEventHeaders('{"Event-Name":"X","a":"\\u0041\\n\\"q\\"\\/"}');
    expect(h?.get('a')).toBe('A\n"q"/');
  });

  it('answers names repeated in other cases as the object JSON.parse builds does', () => {
    expectSameAsJsonParse('{"Event-Name":"X","a-B":"1","A-b":"2","a-B":"3","Event-Name":"Y"}');
    expect(jsonEventHeaders('{"Event-Name":"X","a-B":"1","A-b":"2","a-B":"3"}')!.get('A-B')).toBe('2');
    expect(jsonEventHeaders('{"Event-Name":"X","Event-Name":"Y"}')!.member('Event-Name')).toBe('Y');
    expectSameAsJsonParse('{}');
  });

  it.each([
    ['whitespace between members', '{"Event-Name": "X"}'],
    ['a number', '{"Event-Name":"X","n":1}'],
    ['an array', '{"Event-Name":"X","a":["1"]}'],
    ['an escape in a name', '{"Event-Name":"X","a\\u0042":"1"}'],
    ['a raw control character', '{"Event-Name":"X","a":"line\nbreak"}'],
    ['a bad escape', '{"Event-Name":"X","a":"\\x41"}'],
    ['a short unicode escape', '{"Event-Name":"X","a":"\\u00"}'],
    ['an unterminated string', '{"Event-Name":"X","a":"b}'],
    ['a trailing comma', '{"Event-Name":"X",}'],
    ['text after the object', '{"Event-Name":"X"}x'],
    ['no object', '"Event-Name"'],
    ['an empty text', ''],
  ])('leaves %s to JSON.parse', (_what, text) => {
    expect(jsonEventHeaders(text)).toBeUndefined();
  });

  it('accepts only texts JSON.parse accepts, with the same values (random members)', () => {
    const alphabet = ['a', 'B', '-', '_', ' ', '"', '\\', '/', 'é', '\u2028', '☎', '\t', '\n', '%', ':', ',', '{', '}'];
    let seed = 17;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const str = (max: number) => Array.from({ length: rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const members: Array<[string, string]> = [['Event-Name', 'CHANNEL_EXECUTE_COMPLETE']];
      for (let m = rnd(8); m > 0; m--) members.push([`Name-${str(4).replace(/[\\"\u0000-\u001f]/g, '')}`, str(12)]);
      expectSameAsJsonParse(compact(members));
    }
  });
});
