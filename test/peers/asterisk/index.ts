export { AsteriskPeer, type AsteriskPeerOptions } from './asterisk-peer';
export type { InboundCall, CallRecord, OriginatedLeg, PlaceCallOptions } from './scenarios';
export type { EndpointScript } from './scripts';
export type { ChannelJson, BridgeJson, EventJson } from './wire-format';
export { confPeerOptions } from './conf';
