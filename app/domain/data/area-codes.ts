/**
 * US geographic area codes (NPAs): the state or territory each is assigned to, and every time zone it covers.
 *
 * Data: NANPA area code assignments as of July 2026, compiled (not copied by hand) from
 *  - the NPA set: Google libphonenumber PhoneNumberMetadata.xml, release 9.0.34 (2026-07-02), identical to the
 *    metadata in libphonenumber-js 1.13.16 (US, PR, GU, VI, AS, MP regions), plus six overlays in service by
 *    mid-2026 that the metadata still lacks (357, 436, 624, 679, 861, 924; each confirmed in PUC, carrier or
 *    press announcements). Codes assigned after July 2026 are missing: refresh this table with each release;
 *  - state: libphonenumber resources/geocoding/en/1.txt;
 *  - zones: libphonenumber resources/timezones/map_data.txt (union over every NPA-NXX prefix; cross-checked with
 *    the ZIP-level zones behind zip3.ts), corrected by hand where the comment says so (overlays get their
 *    parent's zones; unofficial local observance is included).
 * Every NANP NPA is assigned to exactly one state or territory, so `state` is single; ambiguity is in the zones.
 * Where unsure we list more zones, never fewer: a stricter calling-hours answer is the safe one.
 *
 * Zones are canonical: one IANA zone per rule set in force today (Indiana's Eastern counties use America/New_York,
 * Idaho's Mountain counties America/Denver, the Virgin Islands America/Puerto_Rico, Saipan Pacific/Guam...), so a
 * lookup never yields two zones that always show the same wall clock.
 * Non-geographic codes (8XX toll-free, 500-series, 900, 710...) and Canadian/Caribbean codes are absent on purpose.
 */
export const ET = 'America/New_York';
export const CT = 'America/Chicago';
export const MT = 'America/Denver';
export const AZ = 'America/Phoenix'; // Mountain Standard Time all year
export const PT = 'America/Los_Angeles';
export const AK = 'America/Anchorage';
export const ADAK = 'America/Adak'; // Hawaii-Aleutian, with DST
export const HI = 'Pacific/Honolulu';
export const AST = 'America/Puerto_Rico'; // Atlantic Standard Time all year (PR, VI)
export const CHST = 'Pacific/Guam'; // Chamorro Standard Time (GU, MP)
export const SST = 'Pacific/Pago_Pago'; // Samoa Standard Time (AS)

export interface AreaCodeEntry {
  /** USPS code of the state or territory the NPA is assigned to. */
  readonly state: string;
  /** Every zone the NPA's rate centers lie in, east to west. */
  readonly zones: readonly string[];
}

export const AREA_CODES: Readonly<Record<string, AreaCodeEntry>> = {
  // Alabama
  '205': { state: 'AL', zones: [CT] },
  '251': { state: 'AL', zones: [CT] },
  '256': { state: 'AL', zones: [CT] },
  '334': { state: 'AL', zones: [ET, CT] }, // Phenix City / Lee and Russell counties unofficially observe Eastern
  '659': { state: 'AL', zones: [CT] },
  '938': { state: 'AL', zones: [CT] },
  // Alaska
  '907': { state: 'AK', zones: [AK, ADAK] }, // Aleutians west of 169°30′W (Adak, Atka) keep Hawaii-Aleutian time
  // Arizona
  '480': { state: 'AZ', zones: [AZ] },
  '520': { state: 'AZ', zones: [AZ] },
  '602': { state: 'AZ', zones: [AZ] },
  '623': { state: 'AZ', zones: [AZ] },
  '928': { state: 'AZ', zones: [MT, AZ] }, // Navajo Nation observes DST (MST/MDT); the rest of Arizona does not
  // Arkansas
  '327': { state: 'AR', zones: [CT] },
  '479': { state: 'AR', zones: [CT] },
  '501': { state: 'AR', zones: [CT] },
  '870': { state: 'AR', zones: [CT] },
  // California
  '209': { state: 'CA', zones: [PT] },
  '213': { state: 'CA', zones: [PT] },
  '279': { state: 'CA', zones: [PT] },
  '310': { state: 'CA', zones: [PT] },
  '323': { state: 'CA', zones: [PT] },
  '341': { state: 'CA', zones: [PT] },
  '350': { state: 'CA', zones: [PT] },
  '357': { state: 'CA', zones: [PT] }, // overlay of 559 (2025); not yet in libphonenumber metadata
  '369': { state: 'CA', zones: [PT] },
  '408': { state: 'CA', zones: [PT] },
  '415': { state: 'CA', zones: [PT] },
  '424': { state: 'CA', zones: [PT] },
  '442': { state: 'CA', zones: [PT] },
  '510': { state: 'CA', zones: [PT] },
  '530': { state: 'CA', zones: [PT] },
  '559': { state: 'CA', zones: [PT] },
  '562': { state: 'CA', zones: [PT] },
  '619': { state: 'CA', zones: [PT] },
  '626': { state: 'CA', zones: [PT] },
  '628': { state: 'CA', zones: [PT] },
  '650': { state: 'CA', zones: [PT] },
  '657': { state: 'CA', zones: [PT] },
  '661': { state: 'CA', zones: [PT] },
  '669': { state: 'CA', zones: [PT] },
  '707': { state: 'CA', zones: [PT] },
  '714': { state: 'CA', zones: [PT] },
  '738': { state: 'CA', zones: [PT] },
  '747': { state: 'CA', zones: [PT] },
  '760': { state: 'CA', zones: [PT] },
  '805': { state: 'CA', zones: [PT] },
  '818': { state: 'CA', zones: [PT] },
  '820': { state: 'CA', zones: [PT] },
  '831': { state: 'CA', zones: [PT] },
  '840': { state: 'CA', zones: [PT] },
  '858': { state: 'CA', zones: [PT] },
  '909': { state: 'CA', zones: [PT] },
  '916': { state: 'CA', zones: [PT] },
  '925': { state: 'CA', zones: [PT] },
  '949': { state: 'CA', zones: [PT] },
  '951': { state: 'CA', zones: [PT] },
  // Colorado
  '303': { state: 'CO', zones: [MT] },
  '719': { state: 'CO', zones: [MT] },
  '720': { state: 'CO', zones: [MT] },
  '748': { state: 'CO', zones: [MT] },
  '970': { state: 'CO', zones: [MT] },
  '983': { state: 'CO', zones: [MT] },
  // Connecticut
  '203': { state: 'CT', zones: [ET] },
  '475': { state: 'CT', zones: [ET] },
  '860': { state: 'CT', zones: [ET] },
  '959': { state: 'CT', zones: [ET] },
  // Delaware
  '302': { state: 'DE', zones: [ET] },
  // District of Columbia
  '202': { state: 'DC', zones: [ET] },
  '771': { state: 'DC', zones: [ET] },
  // Florida
  '239': { state: 'FL', zones: [ET] },
  '305': { state: 'FL', zones: [ET] },
  '321': { state: 'FL', zones: [ET] },
  '324': { state: 'FL', zones: [ET] },
  '352': { state: 'FL', zones: [ET] },
  '386': { state: 'FL', zones: [ET] },
  '407': { state: 'FL', zones: [ET] },
  '448': { state: 'FL', zones: [ET, CT] }, // overlay of 850
  '561': { state: 'FL', zones: [ET] },
  '645': { state: 'FL', zones: [ET] },
  '656': { state: 'FL', zones: [ET] },
  '689': { state: 'FL', zones: [ET] }, // overlay of 407 (libphonenumber lists it as Central: wrong)
  '727': { state: 'FL', zones: [ET] },
  '728': { state: 'FL', zones: [ET] },
  '754': { state: 'FL', zones: [ET] },
  '772': { state: 'FL', zones: [ET] },
  '786': { state: 'FL', zones: [ET] },
  '813': { state: 'FL', zones: [ET] },
  '850': { state: 'FL', zones: [ET, CT] }, // Panhandle west of the Apalachicola River is Central; Tallahassee is Eastern
  '863': { state: 'FL', zones: [ET] },
  '904': { state: 'FL', zones: [ET] },
  '941': { state: 'FL', zones: [ET] },
  '954': { state: 'FL', zones: [ET] },
  // Georgia
  '229': { state: 'GA', zones: [ET] },
  '404': { state: 'GA', zones: [ET] },
  '470': { state: 'GA', zones: [ET] },
  '478': { state: 'GA', zones: [ET] },
  '678': { state: 'GA', zones: [ET] },
  '706': { state: 'GA', zones: [ET] },
  '762': { state: 'GA', zones: [ET] },
  '770': { state: 'GA', zones: [ET] },
  '912': { state: 'GA', zones: [ET] },
  '943': { state: 'GA', zones: [ET] },
  // Hawaii
  '808': { state: 'HI', zones: [HI] },
  // Idaho
  '208': { state: 'ID', zones: [MT, PT] }, // north Idaho (panhandle, Lewiston) is Pacific; the south is Mountain
  '986': { state: 'ID', zones: [MT, PT] }, // overlay of 208
  // Illinois
  '217': { state: 'IL', zones: [CT] },
  '224': { state: 'IL', zones: [CT] },
  '309': { state: 'IL', zones: [CT] },
  '312': { state: 'IL', zones: [CT] },
  '331': { state: 'IL', zones: [CT] },
  '447': { state: 'IL', zones: [CT] },
  '464': { state: 'IL', zones: [CT] },
  '618': { state: 'IL', zones: [CT] },
  '630': { state: 'IL', zones: [CT] },
  '708': { state: 'IL', zones: [CT] },
  '730': { state: 'IL', zones: [CT] },
  '773': { state: 'IL', zones: [CT] },
  '779': { state: 'IL', zones: [CT] },
  '815': { state: 'IL', zones: [CT] },
  '847': { state: 'IL', zones: [CT] },
  '861': { state: 'IL', zones: [CT] }, // overlay of 309 (2025); not yet in libphonenumber metadata
  '872': { state: 'IL', zones: [CT] },
  // Indiana
  '219': { state: 'IN', zones: [ET, CT] }, // northwest Indiana is Central; a few exchanges are Eastern
  '260': { state: 'IN', zones: [ET] },
  '317': { state: 'IN', zones: [ET] },
  '463': { state: 'IN', zones: [ET] },
  '574': { state: 'IN', zones: [ET, CT] }, // South Bend is Eastern; Starke County (Knox) is Central
  '765': { state: 'IN', zones: [ET] },
  '812': { state: 'IN', zones: [ET, CT] }, // Evansville / southwest Indiana is Central; the rest Eastern
  '930': { state: 'IN', zones: [ET, CT] }, // overlay of 812
  // Iowa
  '319': { state: 'IA', zones: [CT] },
  '515': { state: 'IA', zones: [CT] },
  '563': { state: 'IA', zones: [CT] },
  '641': { state: 'IA', zones: [CT] },
  '712': { state: 'IA', zones: [CT] },
  // Kansas
  '316': { state: 'KS', zones: [CT] },
  '620': { state: 'KS', zones: [CT, MT] }, // Greeley and Hamilton counties are Mountain
  '785': { state: 'KS', zones: [CT, MT] }, // Sherman and Wallace counties are Mountain
  '913': { state: 'KS', zones: [CT] },
  // Kentucky
  '270': { state: 'KY', zones: [ET, CT] }, // western Kentucky is Central; Elizabethtown area is Eastern
  '364': { state: 'KY', zones: [ET, CT] }, // overlay of 270
  '502': { state: 'KY', zones: [ET] },
  '606': { state: 'KY', zones: [ET, CT] }, // a few south-central counties (Clinton, Cumberland, Russell) are Central
  '859': { state: 'KY', zones: [ET] },
  // Louisiana
  '225': { state: 'LA', zones: [CT] },
  '318': { state: 'LA', zones: [CT] },
  '337': { state: 'LA', zones: [CT] },
  '504': { state: 'LA', zones: [CT] },
  '985': { state: 'LA', zones: [CT] },
  // Maine
  '207': { state: 'ME', zones: [ET] },
  // Maryland
  '227': { state: 'MD', zones: [ET] },
  '240': { state: 'MD', zones: [ET] },
  '301': { state: 'MD', zones: [ET] },
  '410': { state: 'MD', zones: [ET] },
  '443': { state: 'MD', zones: [ET] },
  '667': { state: 'MD', zones: [ET] },
  // Massachusetts
  '339': { state: 'MA', zones: [ET] },
  '351': { state: 'MA', zones: [ET] },
  '413': { state: 'MA', zones: [ET] },
  '508': { state: 'MA', zones: [ET] },
  '617': { state: 'MA', zones: [ET] },
  '774': { state: 'MA', zones: [ET] },
  '781': { state: 'MA', zones: [ET] },
  '857': { state: 'MA', zones: [ET] },
  '978': { state: 'MA', zones: [ET] },
  // Michigan
  '231': { state: 'MI', zones: [ET] },
  '248': { state: 'MI', zones: [ET] },
  '269': { state: 'MI', zones: [ET] },
  '313': { state: 'MI', zones: [ET] },
  '517': { state: 'MI', zones: [ET] },
  '586': { state: 'MI', zones: [ET] },
  '616': { state: 'MI', zones: [ET] },
  '679': { state: 'MI', zones: [ET] }, // overlay of 313 (2025); not yet in libphonenumber metadata
  '734': { state: 'MI', zones: [ET] },
  '810': { state: 'MI', zones: [ET] },
  '906': { state: 'MI', zones: [ET, CT] }, // the four counties bordering Wisconsin are Central
  '947': { state: 'MI', zones: [ET] },
  '989': { state: 'MI', zones: [ET] },
  // Minnesota
  '218': { state: 'MN', zones: [CT] },
  '320': { state: 'MN', zones: [CT] },
  '507': { state: 'MN', zones: [CT] },
  '612': { state: 'MN', zones: [CT] },
  '651': { state: 'MN', zones: [CT] },
  '763': { state: 'MN', zones: [CT] },
  '924': { state: 'MN', zones: [CT] }, // overlay of 507 (2024); not yet in libphonenumber metadata
  '952': { state: 'MN', zones: [CT] },
  // Mississippi
  '228': { state: 'MS', zones: [CT] },
  '601': { state: 'MS', zones: [CT] },
  '662': { state: 'MS', zones: [CT] },
  '769': { state: 'MS', zones: [CT] },
  // Missouri
  '235': { state: 'MO', zones: [CT] },
  '314': { state: 'MO', zones: [CT] },
  '417': { state: 'MO', zones: [CT] },
  '557': { state: 'MO', zones: [CT] },
  '573': { state: 'MO', zones: [CT] },
  '636': { state: 'MO', zones: [CT] },
  '660': { state: 'MO', zones: [CT] },
  '816': { state: 'MO', zones: [CT] },
  '975': { state: 'MO', zones: [CT] },
  // Montana
  '406': { state: 'MT', zones: [MT] },
  // Nebraska
  '308': { state: 'NE', zones: [CT, MT] }, // Panhandle and western Sandhills are Mountain
  '402': { state: 'NE', zones: [CT, MT] }, // western Cherry County (Cody, Kilgore, Merriman) is Mountain
  '531': { state: 'NE', zones: [CT, MT] }, // overlay of 402
  // Nevada
  '702': { state: 'NV', zones: [PT] },
  '725': { state: 'NV', zones: [PT] },
  '775': { state: 'NV', zones: [MT, PT] }, // West Wendover (officially), Jackpot and Owyhee keep Mountain time
  // New Hampshire
  '603': { state: 'NH', zones: [ET] },
  // New Jersey
  '201': { state: 'NJ', zones: [ET] },
  '551': { state: 'NJ', zones: [ET] },
  '609': { state: 'NJ', zones: [ET] },
  '640': { state: 'NJ', zones: [ET] },
  '732': { state: 'NJ', zones: [ET] },
  '848': { state: 'NJ', zones: [ET] },
  '856': { state: 'NJ', zones: [ET] },
  '862': { state: 'NJ', zones: [ET] },
  '908': { state: 'NJ', zones: [ET] },
  '973': { state: 'NJ', zones: [ET] },
  // New Mexico
  '505': { state: 'NM', zones: [MT] },
  '575': { state: 'NM', zones: [MT] },
  // New York
  '212': { state: 'NY', zones: [ET] },
  '315': { state: 'NY', zones: [ET] },
  '329': { state: 'NY', zones: [ET] },
  '332': { state: 'NY', zones: [ET] },
  '347': { state: 'NY', zones: [ET] },
  '363': { state: 'NY', zones: [ET] },
  '516': { state: 'NY', zones: [ET] },
  '518': { state: 'NY', zones: [ET] },
  '585': { state: 'NY', zones: [ET] },
  '607': { state: 'NY', zones: [ET] },
  '624': { state: 'NY', zones: [ET] }, // overlay of 716 (2023); not yet in libphonenumber metadata
  '631': { state: 'NY', zones: [ET] },
  '646': { state: 'NY', zones: [ET] },
  '680': { state: 'NY', zones: [ET] },
  '716': { state: 'NY', zones: [ET] },
  '718': { state: 'NY', zones: [ET] },
  '838': { state: 'NY', zones: [ET] },
  '845': { state: 'NY', zones: [ET] },
  '914': { state: 'NY', zones: [ET] },
  '917': { state: 'NY', zones: [ET] },
  '929': { state: 'NY', zones: [ET] },
  '934': { state: 'NY', zones: [ET] },
  // North Carolina
  '252': { state: 'NC', zones: [ET] },
  '336': { state: 'NC', zones: [ET] },
  '472': { state: 'NC', zones: [ET] },
  '704': { state: 'NC', zones: [ET] },
  '743': { state: 'NC', zones: [ET] },
  '828': { state: 'NC', zones: [ET] },
  '910': { state: 'NC', zones: [ET] },
  '919': { state: 'NC', zones: [ET] },
  '980': { state: 'NC', zones: [ET] },
  '984': { state: 'NC', zones: [ET] },
  // North Dakota
  '701': { state: 'ND', zones: [CT, MT] }, // southwest North Dakota is Mountain
  // Ohio
  '216': { state: 'OH', zones: [ET] },
  '220': { state: 'OH', zones: [ET] },
  '234': { state: 'OH', zones: [ET] },
  '283': { state: 'OH', zones: [ET] },
  '326': { state: 'OH', zones: [ET] },
  '330': { state: 'OH', zones: [ET] },
  '380': { state: 'OH', zones: [ET] },
  '419': { state: 'OH', zones: [ET] },
  '436': { state: 'OH', zones: [ET] }, // overlay of 440 (2024); not yet in libphonenumber metadata
  '440': { state: 'OH', zones: [ET] },
  '513': { state: 'OH', zones: [ET] },
  '567': { state: 'OH', zones: [ET] },
  '614': { state: 'OH', zones: [ET] },
  '740': { state: 'OH', zones: [ET] },
  '937': { state: 'OH', zones: [ET] },
  // Oklahoma
  '405': { state: 'OK', zones: [CT] },
  '539': { state: 'OK', zones: [CT] },
  '572': { state: 'OK', zones: [CT] },
  '580': { state: 'OK', zones: [CT, MT] }, // Kenton (Cimarron County) unofficially observes Mountain
  '918': { state: 'OK', zones: [CT] },
  // Oregon
  '458': { state: 'OR', zones: [MT, PT] }, // overlay of 541
  '503': { state: 'OR', zones: [PT] },
  '541': { state: 'OR', zones: [MT, PT] }, // Malheur County (Ontario) is Mountain
  '971': { state: 'OR', zones: [PT] },
  // Pennsylvania
  '215': { state: 'PA', zones: [ET] },
  '223': { state: 'PA', zones: [ET] },
  '267': { state: 'PA', zones: [ET] },
  '272': { state: 'PA', zones: [ET] },
  '412': { state: 'PA', zones: [ET] },
  '445': { state: 'PA', zones: [ET] },
  '484': { state: 'PA', zones: [ET] },
  '570': { state: 'PA', zones: [ET] },
  '582': { state: 'PA', zones: [ET] },
  '610': { state: 'PA', zones: [ET] },
  '717': { state: 'PA', zones: [ET] },
  '724': { state: 'PA', zones: [ET] },
  '814': { state: 'PA', zones: [ET] },
  '835': { state: 'PA', zones: [ET] },
  '878': { state: 'PA', zones: [ET] },
  // Rhode Island
  '401': { state: 'RI', zones: [ET] },
  // South Carolina
  '803': { state: 'SC', zones: [ET] },
  '821': { state: 'SC', zones: [ET] },
  '839': { state: 'SC', zones: [ET] },
  '843': { state: 'SC', zones: [ET] },
  '854': { state: 'SC', zones: [ET] },
  '864': { state: 'SC', zones: [ET] },
  // South Dakota
  '605': { state: 'SD', zones: [CT, MT] }, // West River South Dakota is Mountain
  // Tennessee
  '423': { state: 'TN', zones: [ET, CT] }, // Marion, Sequatchie and Bledsoe counties are Central
  '615': { state: 'TN', zones: [CT] },
  '629': { state: 'TN', zones: [CT] },
  '731': { state: 'TN', zones: [CT] },
  '865': { state: 'TN', zones: [ET] },
  '901': { state: 'TN', zones: [CT] },
  '931': { state: 'TN', zones: [CT] },
  // Texas
  '210': { state: 'TX', zones: [CT] },
  '214': { state: 'TX', zones: [CT] },
  '254': { state: 'TX', zones: [CT] },
  '281': { state: 'TX', zones: [CT] },
  '325': { state: 'TX', zones: [CT] },
  '346': { state: 'TX', zones: [CT] },
  '361': { state: 'TX', zones: [CT] },
  '409': { state: 'TX', zones: [CT] },
  '430': { state: 'TX', zones: [CT] },
  '432': { state: 'TX', zones: [CT, MT] }, // northwest Culberson County (Salt Flat, Pine Springs) unofficially observes Mountain
  '469': { state: 'TX', zones: [CT] },
  '512': { state: 'TX', zones: [CT] },
  '682': { state: 'TX', zones: [CT] },
  '713': { state: 'TX', zones: [CT] },
  '726': { state: 'TX', zones: [CT] },
  '737': { state: 'TX', zones: [CT] },
  '806': { state: 'TX', zones: [CT] },
  '817': { state: 'TX', zones: [CT] },
  '830': { state: 'TX', zones: [CT] },
  '832': { state: 'TX', zones: [CT] },
  '903': { state: 'TX', zones: [CT] },
  '915': { state: 'TX', zones: [MT] }, // El Paso and Hudspeth counties: Mountain only
  '936': { state: 'TX', zones: [CT] },
  '940': { state: 'TX', zones: [CT] },
  '945': { state: 'TX', zones: [CT] },
  '956': { state: 'TX', zones: [CT] },
  '972': { state: 'TX', zones: [CT] },
  '979': { state: 'TX', zones: [CT] },
  // Utah
  '385': { state: 'UT', zones: [MT] },
  '435': { state: 'UT', zones: [MT] },
  '801': { state: 'UT', zones: [MT] },
  // Vermont
  '802': { state: 'VT', zones: [ET] },
  // Virginia
  '276': { state: 'VA', zones: [ET] },
  '434': { state: 'VA', zones: [ET] },
  '540': { state: 'VA', zones: [ET] },
  '571': { state: 'VA', zones: [ET] },
  '686': { state: 'VA', zones: [ET] },
  '703': { state: 'VA', zones: [ET] },
  '757': { state: 'VA', zones: [ET] },
  '804': { state: 'VA', zones: [ET] },
  '826': { state: 'VA', zones: [ET] },
  '948': { state: 'VA', zones: [ET] },
  // Washington
  '206': { state: 'WA', zones: [PT] },
  '253': { state: 'WA', zones: [PT] },
  '360': { state: 'WA', zones: [PT] },
  '425': { state: 'WA', zones: [PT] },
  '509': { state: 'WA', zones: [PT] },
  '564': { state: 'WA', zones: [PT] },
  // West Virginia
  '304': { state: 'WV', zones: [ET] },
  '681': { state: 'WV', zones: [ET] },
  // Wisconsin
  '262': { state: 'WI', zones: [CT] },
  '274': { state: 'WI', zones: [CT] },
  '353': { state: 'WI', zones: [CT] },
  '414': { state: 'WI', zones: [CT] },
  '534': { state: 'WI', zones: [CT] },
  '608': { state: 'WI', zones: [CT] },
  '715': { state: 'WI', zones: [CT] },
  '920': { state: 'WI', zones: [CT] },
  // Wyoming
  '307': { state: 'WY', zones: [MT] },
  // American Samoa
  '684': { state: 'AS', zones: [SST] },
  // Guam
  '671': { state: 'GU', zones: [CHST] },
  // Northern Mariana Islands
  '670': { state: 'MP', zones: [CHST] },
  // Puerto Rico
  '787': { state: 'PR', zones: [AST] },
  '939': { state: 'PR', zones: [AST] },
  // U.S. Virgin Islands
  '340': { state: 'VI', zones: [AST] },
};
