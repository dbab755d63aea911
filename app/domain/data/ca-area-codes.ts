/**
 * Canadian geographic area codes (NPAs): the province or territory each serves and every time zone it covers.
 *
 * Data: the NPA set is the one libphonenumber-js 1.13.16 (metadata 9.0.34) validates as CA, minus the
 * non-geographic codes 600, 622 and 633 (those locate nothing, so every Canadian zone applies). Provinces and
 * zones from the Canadian Numbering Administrator's NPA maps and the IANA zone of each rate center's community,
 * by hand: where an NPA reaches a community on another clock it lists that zone too (more zones, never fewer, as
 * in area-codes.ts). 273 is the newest code in the set; its province (Ontario) needs review when CNA publishes
 * its map.
 *
 * Zones keep their Canadian names (America/Toronto, not America/New_York) so a verdict reads right; a zone that
 * keeps one offset all year is named after a place that does: America/Dawson_Creek (MST, north-east BC),
 * America/Whitehorse (MST, Yukon since 2020), America/Atikokan (EST, north-west Ontario), America/Blanc-Sablon
 * (AST, Quebec's Lower North Shore), America/Regina (CST, Saskatchewan).
 */
export const TORONTO = 'America/Toronto';
export const WINNIPEG = 'America/Winnipeg';
export const REGINA = 'America/Regina';
export const EDMONTON = 'America/Edmonton';
export const VANCOUVER = 'America/Vancouver';
export const HALIFAX = 'America/Halifax';
export const MONCTON = 'America/Moncton';
export const ST_JOHNS = 'America/St_Johns'; // UTC-3:30
export const GOOSE_BAY = 'America/Goose_Bay'; // Labrador: Atlantic time
export const DAWSON_CREEK = 'America/Dawson_Creek';
export const WHITEHORSE = 'America/Whitehorse';
export const ATIKOKAN = 'America/Atikokan';
export const BLANC_SABLON = 'America/Blanc-Sablon';

export interface CanadianAreaCodeEntry {
  /** Canada Post code of the province or territory ('NT' for 867, which also serves YT and NU). */
  readonly province: string;
  readonly zones: readonly string[];
}

const BC = { province: 'BC', zones: [EDMONTON, DAWSON_CREEK, VANCOUVER] }; // East Kootenay keeps Mountain time
const ON_SOUTH = { province: 'ON', zones: [TORONTO] };
const QC_WEST = { province: 'QC', zones: [TORONTO] };
const QC_EAST = { province: 'QC', zones: [BLANC_SABLON, HALIFAX, TORONTO] }; // Lower North Shore, Magdalen Islands
const AB = { province: 'AB', zones: [EDMONTON] };
const SK = { province: 'SK', zones: [REGINA, EDMONTON] }; // Lloydminster keeps Alberta's time
const MB = { province: 'MB', zones: [WINNIPEG] };
const NB = { province: 'NB', zones: [MONCTON] };
const NS_PE = { province: 'NS', zones: [HALIFAX] };
const NL = { province: 'NL', zones: [ST_JOHNS, GOOSE_BAY] };

export const CANADIAN_AREA_CODES: Readonly<Record<string, CanadianAreaCodeEntry>> = {
  // Alberta
  '368': AB, '403': AB, '587': AB, '780': AB, '825': AB,
  // British Columbia (604 is the Lower Mainland only; the overlays cover the whole province)
  '236': BC, '250': BC, '257': BC, '604': { province: 'BC', zones: [VANCOUVER] }, '672': BC, '778': BC,
  // Manitoba
  '204': MB, '431': MB, '584': MB,
  // New Brunswick
  '428': NB, '506': NB,
  // Newfoundland and Labrador
  '709': NL, '879': NL,
  // Nova Scotia and Prince Edward Island
  '782': NS_PE, '902': NS_PE,
  // Ontario
  '226': ON_SOUTH, '249': ON_SOUTH, '273': ON_SOUTH, '289': ON_SOUTH, '343': ON_SOUTH, '365': ON_SOUTH,
  '382': ON_SOUTH, '416': ON_SOUTH, '437': ON_SOUTH, '519': ON_SOUTH, '548': ON_SOUTH, '613': ON_SOUTH,
  '647': ON_SOUTH, '683': ON_SOUTH, '705': ON_SOUTH, '742': ON_SOUTH, '753': ON_SOUTH, '905': ON_SOUTH,
  '942': ON_SOUTH,
  '807': { province: 'ON', zones: [TORONTO, ATIKOKAN, WINNIPEG] }, // Thunder Bay, Atikokan, Kenora
  // Quebec
  '263': QC_WEST, '354': QC_WEST, '438': QC_WEST, '450': QC_WEST, '468': QC_WEST, '514': QC_WEST, '579': QC_WEST,
  '819': QC_WEST, '873': QC_WEST,
  '367': QC_EAST, '418': QC_EAST, '581': QC_EAST,
  // Saskatchewan
  '306': SK, '474': SK, '639': SK,
  // Yukon, Northwest Territories, Nunavut (Iqaluit, Rankin Inlet, Yellowknife and Cambridge Bay, Whitehorse)
  '867': { province: 'NT', zones: [TORONTO, WINNIPEG, EDMONTON, WHITEHORSE] },
};

/** Every zone the table can answer, east to west: the candidate set for a Canadian number it does not locate. */
export const CANADIAN_TIME_ZONES: readonly string[] = Object.freeze([
  ST_JOHNS, GOOSE_BAY, HALIFAX, MONCTON, BLANC_SABLON, TORONTO, ATIKOKAN, WINNIPEG, REGINA, EDMONTON, DAWSON_CREEK,
  WHITEHORSE, VANCOUVER,
]);
