/**
 * The input primitives every route builds on (app/api/schemas.ts), table-tested: strict ISO dates in range,
 * storable text, int4 and money bounds, cursors checked in shape.
 */
import { cents, decodeTimeCursor, encodeTimeCursor, int4, isStorableText, MAX_CENTS, parseIsoDate, text } from '../../app/api/schemas';

describe('parseIsoDate', () => {
  it.each([
    ['2026-12-07', '2026-12-07T00:00:00.000Z'],
    ['2026-12-07T08:30Z', '2026-12-07T08:30:00.000Z'],
    ['2026-12-07T08:30:15Z', '2026-12-07T08:30:15.000Z'],
    ['2026-11-24T15:39:42.123456+00:00', '2026-11-24T15:39:42.123Z'],
    ['2026-12-07T08:30:00+05:30', '2026-12-07T03:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads %j as %s', (s, iso) => {
    expect(parseIsoDate(s)?.toISOString()).toBe(iso);
  });

  it.each([
    "' OR '1'='1", '2001', '2001-01', '-200000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1969-12-31T23:59:59Z',
    '2025-02-29', '2026-13-01', '2026-00-10', '2026-12-32', '2026-12-07T24:00:00Z', '2026-12-07T08:60:00Z', '2026-12-07T08:30:00',
    '2026-12-07T08:30:00+0530', '2026-12-07 08:30:00Z', 'Mon, 07 Dec 2026 08:30:00 GMT', '1733560200000', '', ' 2026-12-07',
  ])('refuses %j', (s) => {
    expect(parseIsoDate(s)).toBeUndefined();
  });
});

describe('storable text and bounds', () => {
  it.each([
    ['plain', true], ['emoji 💸', true], ['', true], ['a\u0000b', false], ['x\ud800', false], ['\udc00x', false], ['\udc00\ud800', false],
  ])('%j storable: %s', (s, ok) => {
    expect(isStorableText(s)).toBe(ok);
    if (s !== '') expect(text({ max: 50 }).safeParse(s).success).toBe(ok);
  });

  it('bounds integers by int4 and money by MAX_CENTS', () => {
    expect(int4().safeParse(2147483647).success).toBe(true);
    expect(int4().safeParse(2147483648).success).toBe(false);
    expect(int4().safeParse(-1).success).toBe(false);
    expect(cents().safeParse(MAX_CENTS).success).toBe(true);
    expect(cents().safeParse(MAX_CENTS + 1).success).toBe(false);
    expect(cents({ signed: true }).safeParse(-MAX_CENTS).success).toBe(true);
    expect(cents().safeParse(-1).success).toBe(false);
    expect(cents().safeParse(1.5).success).toBe(false);
  });
});

describe('time cursors', () => {
  const KEY = /^\+[1-9]\d{6,14}$/;
  it('round-trip what the API returned', () => {
    const c = encodeTimeCursor('2026-11-24T15:39:42.123456+00:00', '+18135550100');
    expect(decodeTimeCursor(c, KEY)).toEqual(['2026-11-24T15:39:42.123456+00:00', '+18135550100']);
  });

  it.each([
    ['["2020","x"]', 'WyIyMDIwIiwieCJd'],
    ['a year out of range', encodeTimeCursor('-200000-01-01T00:00:00Z', '+18135550100')],
    ['a key of the wrong shape', encodeTimeCursor('2026-11-24T15:39:42Z', "x' OR 1=1")],
    ['three parts', Buffer.from(JSON.stringify(['2026-11-24T15:39:42Z', '+18135550100', 1])).toString('base64url')],
    ['not JSON', Buffer.from('[2026').toString('base64url')],
    ['an object', Buffer.from('{}').toString('base64url')],
  ])('refuse %s as a 400 on the cursor field', (_what, c) => {
    expect(() => decodeTimeCursor(c, KEY)).toThrow(expect.objectContaining({ status: 400, field: 'cursor' }));
  });
});
