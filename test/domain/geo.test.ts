import { locateByAreaCode, locateByZip, locateCanadianAreaCode, locateConsumer, locateForCallingHours, US_TIME_ZONES } from '../../app/domain/geo';
import { CANADIAN_AREA_CODES, CANADIAN_TIME_ZONES } from '../../app/domain/data/ca-area-codes';
import { parseCaller } from '../../app/domain/phone';
import { AREA_CODES } from '../../app/domain/data/area-codes';
import { ZIP3, ZIP5_EXCEPTIONS } from '../../app/domain/data/zip3';
import { isValidTimeZone } from '../../app/domain/local-time';

const ET = 'America/New_York';
const CT = 'America/Chicago';
const MT = 'America/Denver';
const AZ = 'America/Phoenix';
const PT = 'America/Los_Angeles';

const STATES_AND_DC = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY', 'LA', 'ME',
  'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI',
  'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV', 'WI', 'WY',
];

describe('locateByAreaCode', () => {
  it.each([
    ['813', 'FL', [ET]],
    ['850', 'FL', [ET, CT]], // panhandle
    ['448', 'FL', [ET, CT]], // overlay of 850
    ['915', 'TX', [MT]], // El Paso
    ['432', 'TX', [CT, MT]],
    ['214', 'TX', [CT]],
    ['208', 'ID', [MT, PT]],
    ['270', 'KY', [ET, CT]],
    ['606', 'KY', [ET, CT]],
    ['502', 'KY', [ET]],
    ['423', 'TN', [ET, CT]],
    ['615', 'TN', [CT]],
    ['812', 'IN', [ET, CT]],
    ['317', 'IN', [ET]],
    ['906', 'MI', [ET, CT]],
    ['605', 'SD', [CT, MT]],
    ['701', 'ND', [CT, MT]],
    ['308', 'NE', [CT, MT]],
    ['541', 'OR', [MT, PT]],
    ['503', 'OR', [PT]],
    ['620', 'KS', [CT, MT]],
    ['785', 'KS', [CT, MT]],
    ['775', 'NV', [MT, PT]],
    ['702', 'NV', [PT]],
    ['602', 'AZ', [AZ]],
    ['928', 'AZ', [MT, AZ]], // Navajo Nation keeps DST
    ['907', 'AK', ['America/Anchorage', 'America/Adak']],
    ['808', 'HI', ['Pacific/Honolulu']],
    ['202', 'DC', [ET]],
    ['787', 'PR', ['America/Puerto_Rico']],
    ['939', 'PR', ['America/Puerto_Rico']],
    ['340', 'VI', ['America/Puerto_Rico']],
    ['671', 'GU', ['Pacific/Guam']],
    ['670', 'MP', ['Pacific/Guam']],
    ['684', 'AS', ['Pacific/Pago_Pago']],
  ])('%s → %s %j', (npa, state, zones) => {
    expect(locateByAreaCode(npa)).toEqual({ states: [state], timeZones: zones });
  });

  it.each(['800', '833', '844', '855', '866', '877', '888', '500', '533', '900', '710', '416', '876', '211', '222', '000', '81', '8135', 'abc', ''])(
    'non-geographic, foreign or malformed %j → undefined',
    (npa) => {
      expect(locateByAreaCode(npa)).toBeUndefined();
    },
  );

  it.each([
    ['850', '448'], ['270', '364'], ['812', '930'], ['208', '986'], ['541', '458'], ['402', '531'], ['407', '689'],
    ['559', '357'], ['440', '436'], ['716', '624'], ['313', '679'], ['309', '861'], ['507', '924'], ['212', '332'],
  ])('overlay %s/%s: same state and zones', (a, b) => {
    expect(locateByAreaCode(b)).toEqual(locateByAreaCode(a));
  });

  it('covers every state, DC and the five inhabited territories', () => {
    const states = new Set(Object.values(AREA_CODES).map((e) => e.state));
    for (const s of [...STATES_AND_DC, 'PR', 'VI', 'GU', 'MP', 'AS']) expect([s, states.has(s)]).toEqual([s, true]);
    expect(states.size).toBe(STATES_AND_DC.length + 5);
    expect(Object.keys(AREA_CODES).length).toBeGreaterThanOrEqual(370);
  });

  it('returns copies, so a caller cannot corrupt the table', () => {
    locateByAreaCode('850')!.timeZones.push('Europe/London');
    expect(locateByAreaCode('850')!.timeZones).toEqual([ET, CT]);
  });
});

describe('locateByZip', () => {
  it.each([
    ['33602', ['FL'], [ET]], // Tampa
    ['32401', ['FL'], [ET, CT]], // Panama City: 324 straddles the line
    ['32501', ['FL'], [CT]], // Pensacola
    ['10001', ['NY'], [ET]],
    ['10001-1234', ['NY'], [ET]], // ZIP+4
    ['100011234', ['NY'], [ET]],
    [' 90210 ', ['CA'], [PT]],
    ['79901', ['TX'], [CT, MT]], // El Paso's prefix also holds Central ZIPs
    ['75201', ['TX'], [CT]],
    ['85001', ['AZ'], [AZ]],
    ['86515', ['AZ'], [MT, AZ]], // Window Rock, Navajo Nation
    ['36867', ['AL'], [ET, CT]], // Phenix City
    ['89883', ['NV'], [MT, PT]], // West Wendover
    ['83414', ['ID', 'WY'], [MT]], // a prefix that spans states
    ['99546', ['AK'], ['America/Anchorage', 'America/Adak']], // Adak
    ['96813', ['HI'], ['Pacific/Honolulu']],
    ['96799', ['AS'], ['Pacific/Pago_Pago']], // American Samoa inside Hawaii's prefix
    ['96910', ['GU', 'MP'], ['Pacific/Guam']],
    ['00901', ['PR'], ['America/Puerto_Rico']],
    ['00802', ['VI'], ['America/Puerto_Rico']],
    ['20001', ['DC'], [ET]],
  ])('%j → %j %j', (zip, states, zones) => {
    expect(locateByZip(zip)).toEqual({ states, timeZones: zones });
  });

  it.each([
    ['96960', 'Marshall Islands'],
    ['96941', 'Micronesia'],
    ['09001', 'military AE'],
    ['34001', 'military AA'],
    ['96201', 'military AP'],
    ['21301', 'unassigned prefix'],
    ['1234', 'too short'],
    ['123456', 'six digits'],
    ['abcde', 'letters'],
    ['', 'empty'],
  ])('%j (%s) → undefined', (zip) => {
    expect(locateByZip(zip)).toBeUndefined();
  });

  it('covers every state, DC and the territories', () => {
    const states = new Set(Object.values(ZIP3).flatMap((e) => e.states));
    for (const s of [...STATES_AND_DC, 'PR', 'VI', 'GU', 'MP']) expect([s, states.has(s)]).toEqual([s, true]);
  });

  it('table keys are well-formed and do not overlap', () => {
    // (Object.keys puts integer-like keys such as '100' first, so sort before comparing neighbours.)
    const ranges = Object.keys(ZIP3).map((key) => {
      expect(key).toMatch(/^\d{3}(-\d{3})?$/);
      const [from, to = from] = key.split('-').map(Number);
      expect(to!).toBeGreaterThanOrEqual(from!);
      return [from!, to!] as const;
    });
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1]);
  });
});

describe('locateConsumer', () => {
  it('the ZIP wins over the area code', () => {
    expect(locateConsumer({ areaCode: '212', zip: '90210' })).toEqual({ source: 'zip', states: ['CA'], timeZones: [PT] });
  });

  it('an unlocatable ZIP falls back to the area code', () => {
    expect(locateConsumer({ areaCode: '212', zip: '09001' })).toEqual({ source: 'area_code', states: ['NY'], timeZones: [ET] });
    expect(locateConsumer({ areaCode: '850', zip: 'n/a' })).toEqual({ source: 'area_code', states: ['FL'], timeZones: [ET, CT] });
  });

  it.each([{}, { areaCode: '800' }, { zip: '96960' }, { areaCode: undefined, zip: undefined }])('nothing known (%j) → unknown, all US zones', (input) => {
    expect(locateConsumer(input)).toEqual({ source: 'unknown', states: [], timeZones: [...US_TIME_ZONES] });
  });
});

describe('US_TIME_ZONES and the tables', () => {
  it('is every zone the tables can answer, each once', () => {
    expect([...US_TIME_ZONES]).toEqual([
      'America/Puerto_Rico', ET, CT, MT, AZ, PT, 'America/Anchorage', 'America/Adak', 'Pacific/Honolulu',
      'Pacific/Pago_Pago', 'Pacific/Guam',
    ]);
    const used = new Set([...Object.values(AREA_CODES), ...Object.values(ZIP3)].flatMap((e) => [...e.zones]));
    expect([...used].sort()).toEqual([...US_TIME_ZONES].sort());
  });

  it('every zone in the data is one ICU knows', () => {
    for (const z of US_TIME_ZONES) expect([z, isValidTimeZone(z)]).toEqual([z, true]);
    for (const e of Object.values(ZIP5_EXCEPTIONS)) for (const z of e?.zones ?? []) expect(US_TIME_ZONES).toContain(z);
  });

  it('no entry lists a zone twice or no zone at all', () => {
    for (const e of [...Object.values(AREA_CODES), ...Object.values(ZIP3)]) {
      expect(e.zones.length).toBeGreaterThan(0);
      expect(new Set(e.zones).size).toBe(e.zones.length);
    }
  });
});

describe('locateForCallingHours: every jurisdiction that claims the number', () => {
  it.each([
    ['a Florida number with a New York zip: both states', { country: 'US', areaCode: '813', zip: '10001' }, { countries: ['US'], states: ['FL', 'NY'], timeZones: [ET] }],
    ['a panhandle number with a Beverly Hills zip: both states, every zone', { country: 'US', areaCode: '850', zip: '90210' }, { countries: ['US'], states: ['FL', 'CA'], timeZones: [ET, CT, PT] }],
    ['the same state twice is listed once', { country: 'US', areaCode: '212', zip: '10001' }, { countries: ['US'], states: ['NY'], timeZones: [ET] }],
    ['an unlocatable zip: the area code alone', { country: 'US', areaCode: '212', zip: '09001' }, { countries: ['US'], states: ['NY'], timeZones: [ET] }],
    ['a zip alone', { country: 'US', zip: '33602' }, { countries: ['US'], states: ['FL'], timeZones: [ET] }],
    ['a Puerto Rico number', { country: 'PR', areaCode: '787' }, { countries: ['US'], states: ['PR'], timeZones: ['America/Puerto_Rico'] }],
    ['a Toronto number', { country: 'CA', areaCode: '416' }, { countries: ['CA'], states: [], timeZones: ['America/Toronto'], province: 'ON' }],
    ['a Toronto number with a Buffalo zip: both countries', { country: 'CA', areaCode: '416', zip: '14201' }, { countries: ['CA', 'US'], states: ['NY'], timeZones: ['America/Toronto', ET], province: 'ON' }],
    ['a non-geographic Canadian number: every Canadian zone', { country: 'CA', areaCode: '600' }, { countries: ['CA'], states: [], timeZones: [...CANADIAN_TIME_ZONES] }],
    ['a toll-free number: a US number we cannot place', { country: 'US', areaCode: '800' }, { countries: ['US'], states: [], timeZones: [...US_TIME_ZONES] }],
    ['nothing known', {}, { countries: ['US'], states: [], timeZones: [...US_TIME_ZONES] }],
    ['a Jamaican number (NANP, foreign)', { country: 'JM', areaCode: '876' }, { countries: [], states: [], timeZones: [...US_TIME_ZONES] }],
    ['a British number with a US zip', { country: 'GB', zip: '10001' }, { countries: [], states: [], timeZones: [...US_TIME_ZONES] }],
  ])('%s', (_name, input, expected) => {
    expect(locateForCallingHours(input)).toEqual(expected);
  });

  it('takes what parseCaller gives for real numbers', () => {
    const where = (raw: string, zip?: string) => {
      const p = parseCaller(raw);
      if (!p.ok) throw new Error(p.detail);
      return locateForCallingHours({ country: p.country, areaCode: p.areaCode, zip });
    };
    expect(where('+14165550123')).toMatchObject({ countries: ['CA'], province: 'ON' });
    expect(where('+16045550123')).toMatchObject({ countries: ['CA'], timeZones: ['America/Vancouver'] });
    expect(where('+18135550123', '10001')).toMatchObject({ countries: ['US'], states: ['FL', 'NY'] });
    expect(where('+442079460000')).toMatchObject({ countries: [] });
  });

  it('locateConsumer (targeting) still lets the zip replace the area code', () => {
    expect(locateConsumer({ areaCode: '813', zip: '10001' })).toEqual({ source: 'zip', states: ['NY'], timeZones: [ET] });
  });
});

describe('Canadian area codes', () => {
  it.each([
    ['416', 'ON', ['America/Toronto']],
    ['807', 'ON', ['America/Toronto', 'America/Atikokan', 'America/Winnipeg']],
    ['250', 'BC', ['America/Edmonton', 'America/Dawson_Creek', 'America/Vancouver']],
    ['306', 'SK', ['America/Regina', 'America/Edmonton']],
    ['418', 'QC', ['America/Blanc-Sablon', 'America/Halifax', 'America/Toronto']],
    ['709', 'NL', ['America/St_Johns', 'America/Goose_Bay']],
    ['867', 'NT', ['America/Toronto', 'America/Winnipeg', 'America/Edmonton', 'America/Whitehorse']],
  ])('%s → %s %j', (npa, province, zones) => {
    expect(locateCanadianAreaCode(npa)).toEqual({ province, timeZones: zones });
  });

  it('no code is both American and Canadian, and every Canadian code is one libphonenumber calls Canadian', () => {
    for (const npa of Object.keys(CANADIAN_AREA_CODES)) {
      expect([npa, AREA_CODES[npa]]).toEqual([npa, undefined]);
      const p = parseCaller(`+1${npa}2345678`);
      expect([npa, p.ok && p.country]).toEqual([npa, 'CA']);
    }
  });

  it('every zone is one ICU knows and is in CANADIAN_TIME_ZONES', () => {
    for (const e of Object.values(CANADIAN_AREA_CODES)) {
      for (const z of e.zones) {
        expect([z, isValidTimeZone(z)]).toEqual([z, true]);
        expect(CANADIAN_TIME_ZONES).toContain(z);
      }
    }
  });
});
