export { AsteriskAdapter, type RestFactory } from './adapter';
export { DEFAULT_TIMEOUTS, type AriRestClientName, type AsteriskAdapterConfig, type AsteriskTimeouts } from './config';
export { LegGoneError } from './leg-context';
export type { AriRest } from './ari-rest';
