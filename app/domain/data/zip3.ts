/**
 * 3-digit ZIP prefixes (zip3) → the state(s) and every time zone their ZIP codes lie in.
 *
 * Data: USPS zip3 prefix table as of June 2026, compiled (not typed by hand) from the ZIP-level dataset of the
 * `zipcodes` package (github.com/seanpianka/Zipcodes, crates/zipcodes/src/zips.json.bz2, commit 9748e76 of
 * 2026-06-12: unitedstateszipcodes.org base refreshed monthly from the USPS ZIP Locale Detail file), which gives
 * each ZIP its state and IANA zone. A prefix's zones are the union over its ZIPs, canonicalised like
 * area-codes.ts; three prefixes get a zone the per-ZIP data misses (368, 739, 898: see their comments).
 * Rows without a comment that list two zones are prefixes whose ZIPs straddle a zone line (TN, KY, IN, MI, SD,
 * ND, KS, NE): the data, not a guess.
 *
 * Keys are single prefixes or inclusive ranges of consecutive assigned prefixes with the same answer; unassigned
 * prefixes (e.g. 213, 343, 419, 517-519) are absent, as are military (APO/FPO/DPO: 090-099, 340, 962-966).
 */
import { ET, CT, MT, AZ, PT, AK, ADAK, HI, AST, CHST, SST } from './area-codes';

export interface Zip3Entry {
  readonly states: readonly string[];
  readonly zones: readonly string[];
}

export const ZIP3: Readonly<Record<string, Zip3Entry>> = {
  '005': { states: ['NY'], zones: [ET] },
  '006-007': { states: ['PR'], zones: [AST] },
  '008': { states: ['VI'], zones: [AST] },
  '009': { states: ['PR'], zones: [AST] },
  '010-027': { states: ['MA'], zones: [ET] },
  '028-029': { states: ['RI'], zones: [ET] },
  '030-038': { states: ['NH'], zones: [ET] },
  '039-049': { states: ['ME'], zones: [ET] },
  '050-054': { states: ['VT'], zones: [ET] },
  '055': { states: ['MA'], zones: [ET] },
  '056-059': { states: ['VT'], zones: [ET] },
  '060-062': { states: ['CT'], zones: [ET] },
  '063': { states: ['CT', 'NY'], zones: [ET] }, // Fishers Island NY is served from CT
  '064-069': { states: ['CT'], zones: [ET] },
  '070-089': { states: ['NJ'], zones: [ET] },
  '100-149': { states: ['NY'], zones: [ET] },
  '150-196': { states: ['PA'], zones: [ET] },
  '197-199': { states: ['DE'], zones: [ET] },
  '200': { states: ['DC'], zones: [ET] },
  '201': { states: ['VA'], zones: [ET] },
  '202-204': { states: ['DC'], zones: [ET] },
  '205': { states: ['DC', 'MD', 'VA'], zones: [ET] }, // federal agencies in MD and VA share DC's prefix
  '206-212': { states: ['MD'], zones: [ET] },
  '214-219': { states: ['MD'], zones: [ET] },
  '220-246': { states: ['VA'], zones: [ET] },
  '247-268': { states: ['WV'], zones: [ET] },
  '270-289': { states: ['NC'], zones: [ET] },
  '290-299': { states: ['SC'], zones: [ET] },
  '300-319': { states: ['GA'], zones: [ET] },
  '320-323': { states: ['FL'], zones: [ET] },
  '324': { states: ['FL'], zones: [ET, CT] }, // Panama City (Central) and Port St. Joe / Gulf County (Eastern)
  '325': { states: ['FL'], zones: [CT] },
  '326-339': { states: ['FL'], zones: [ET] },
  '341-342': { states: ['FL'], zones: [ET] },
  '344': { states: ['FL'], zones: [ET] },
  '346-347': { states: ['FL'], zones: [ET] },
  '349': { states: ['FL'], zones: [ET] },
  '350-352': { states: ['AL'], zones: [CT] },
  '354-367': { states: ['AL'], zones: [CT] },
  '368': { states: ['AL'], zones: [ET, CT] }, // Phenix City, Valley, Lanett: unofficially Eastern
  '369': { states: ['AL'], zones: [CT] },
  '370-372': { states: ['TN'], zones: [CT] },
  '373-374': { states: ['TN'], zones: [ET, CT] },
  '375': { states: ['TN'], zones: [CT] },
  '376': { states: ['TN'], zones: [ET] },
  '377': { states: ['TN'], zones: [ET, CT] },
  '378-379': { states: ['TN'], zones: [ET] },
  '380-385': { states: ['TN'], zones: [CT] },
  '386-397': { states: ['MS'], zones: [CT] },
  '398-399': { states: ['GA'], zones: [ET] },
  '400': { states: ['KY'], zones: [ET] },
  '401': { states: ['KY'], zones: [ET, CT] },
  '402-418': { states: ['KY'], zones: [ET] },
  '420-424': { states: ['KY'], zones: [CT] },
  '425': { states: ['KY'], zones: [ET] },
  '426-427': { states: ['KY'], zones: [ET, CT] },
  '430-459': { states: ['OH'], zones: [ET] },
  '460-462': { states: ['IN'], zones: [ET] },
  '463-464': { states: ['IN'], zones: [CT] },
  '465': { states: ['IN'], zones: [ET, CT] },
  '466-468': { states: ['IN'], zones: [ET] },
  '469': { states: ['IN'], zones: [ET, CT] },
  '470-474': { states: ['IN'], zones: [ET] },
  '475': { states: ['IN'], zones: [ET, CT] },
  '476-477': { states: ['IN'], zones: [CT] },
  '478': { states: ['IN'], zones: [ET] },
  '479': { states: ['IN'], zones: [ET, CT] },
  '480-497': { states: ['MI'], zones: [ET] },
  '498-499': { states: ['MI'], zones: [ET, CT] },
  '500-516': { states: ['IA'], zones: [CT] },
  '520-528': { states: ['IA'], zones: [CT] },
  '530-532': { states: ['WI'], zones: [CT] },
  '534-535': { states: ['WI'], zones: [CT] },
  '537-549': { states: ['WI'], zones: [CT] },
  '550-551': { states: ['MN'], zones: [CT] },
  '553-567': { states: ['MN'], zones: [CT] },
  '569': { states: ['DC'], zones: [ET] },
  '570-574': { states: ['SD'], zones: [CT] },
  '575-576': { states: ['SD'], zones: [CT, MT] },
  '577': { states: ['SD'], zones: [MT] },
  '580-584': { states: ['ND'], zones: [CT] },
  '585-586': { states: ['ND'], zones: [CT, MT] },
  '587-588': { states: ['ND'], zones: [CT] },
  '590-599': { states: ['MT'], zones: [MT] },
  '600-620': { states: ['IL'], zones: [CT] },
  '622-629': { states: ['IL'], zones: [CT] },
  '630-631': { states: ['MO'], zones: [CT] },
  '633-641': { states: ['MO'], zones: [CT] },
  '644-658': { states: ['MO'], zones: [CT] },
  '660-662': { states: ['KS'], zones: [CT] },
  '664-676': { states: ['KS'], zones: [CT] },
  '677-678': { states: ['KS'], zones: [CT, MT] },
  '679': { states: ['KS'], zones: [CT] },
  '680-681': { states: ['NE'], zones: [CT] },
  '683-689': { states: ['NE'], zones: [CT] },
  '690-692': { states: ['NE'], zones: [CT, MT] },
  '693': { states: ['NE'], zones: [MT] },
  '700-701': { states: ['LA'], zones: [CT] },
  '703-708': { states: ['LA'], zones: [CT] },
  '710-714': { states: ['LA'], zones: [CT] },
  '716-725': { states: ['AR'], zones: [CT] },
  '726': { states: ['AR', 'MO'], zones: [CT] }, // Lead Hill MO
  '727-729': { states: ['AR'], zones: [CT] },
  '730-731': { states: ['OK'], zones: [CT] },
  '733': { states: ['TX'], zones: [CT] },
  '734-738': { states: ['OK'], zones: [CT] },
  '739': { states: ['OK', 'TX'], zones: [CT, MT] }, // Kenton (Cimarron County): unofficially Mountain; Texhoma straddles OK/TX
  '740-741': { states: ['OK'], zones: [CT] },
  '743-749': { states: ['OK'], zones: [CT] },
  '750-770': { states: ['TX'], zones: [CT] },
  '772-797': { states: ['TX'], zones: [CT] },
  '798-799': { states: ['TX'], zones: [CT, MT] }, // El Paso, Hudspeth (Mountain); Culberson, Reeves... (Central)
  '800-816': { states: ['CO'], zones: [MT] },
  '820-831': { states: ['WY'], zones: [MT] },
  '832-833': { states: ['ID'], zones: [MT] },
  '834': { states: ['ID', 'WY'], zones: [MT] }, // Alta WY
  '835': { states: ['ID'], zones: [MT, PT] }, // Idaho County is split; Lewiston is Pacific
  '836-837': { states: ['ID'], zones: [MT] },
  '838': { states: ['ID'], zones: [PT] },
  '840-847': { states: ['UT'], zones: [MT] },
  '850-853': { states: ['AZ'], zones: [AZ] },
  '855-857': { states: ['AZ'], zones: [AZ] },
  '859': { states: ['AZ'], zones: [AZ] },
  '860': { states: ['AZ'], zones: [MT, AZ] }, // Navajo Nation observes DST
  '863-864': { states: ['AZ'], zones: [AZ] },
  '865': { states: ['AZ'], zones: [MT, AZ] }, // Navajo Nation observes DST
  '870-871': { states: ['NM'], zones: [MT] },
  '873-884': { states: ['NM'], zones: [MT] },
  '885': { states: ['TX'], zones: [MT] },
  '888': { states: ['DC'], zones: [ET] },
  '889-891': { states: ['NV'], zones: [PT] },
  '893-895': { states: ['NV'], zones: [PT] },
  '897': { states: ['NV'], zones: [PT] },
  '898': { states: ['NV'], zones: [MT, PT] }, // West Wendover (officially), Jackpot, Owyhee: Mountain
  '900-908': { states: ['CA'], zones: [PT] },
  '910-928': { states: ['CA'], zones: [PT] },
  '930-961': { states: ['CA'], zones: [PT] },
  '967-968': { states: ['HI'], zones: [HI] }, // 96799 (American Samoa) is an exception below
  '969': { states: ['GU', 'MP'], zones: [CHST] }, // Guam and the Northern Mariana Islands (same clock); FSM/Palau/Marshall ZIPs are excluded below
  '970-978': { states: ['OR'], zones: [PT] },
  '979': { states: ['OR'], zones: [MT, PT] }, // Malheur County (Mountain); Harney County fringe (Pacific)
  '980-986': { states: ['WA'], zones: [PT] },
  '988-994': { states: ['WA'], zones: [PT] },
  '995': { states: ['AK'], zones: [AK, ADAK] }, // Adak and Atka keep Hawaii-Aleutian time
  '996-999': { states: ['AK'], zones: [AK] },
};

/**
 * Whole ZIP codes that do not follow their prefix. `null`: the ZIP is not in a US state or territory (the
 * freely associated states use USPS ZIPs but are not subject to US calling-hours rules), so it locates nothing.
 */
export const ZIP5_EXCEPTIONS: Readonly<Record<string, Zip3Entry | null>> = {
  '96799': { states: ['AS'], zones: [SST] }, // Pago Pago, American Samoa (inside Hawaii's 967)
  '96939': null, // Palau
  '96940': null, // Palau
  '96941': null, // Micronesia (Pohnpei)
  '96942': null, // Micronesia (Chuuk)
  '96943': null, // Micronesia (Yap)
  '96944': null, // Micronesia (Kosrae)
  '96960': null, // Marshall Islands (Majuro)
  '96970': null, // Marshall Islands (Ebeye)
};
