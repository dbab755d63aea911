export { FreeSwitchAdapter } from './adapter';
export { DEFAULT_TIMEOUTS, type FreeSwitchAdapterConfig, type FreeSwitchTimeouts } from './config';
export { LegGoneError } from './call-leg';
