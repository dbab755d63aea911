export { FreeSwitchPeer, type PlaceCallOptions } from './freeswitch-peer';
export type { CallSession, CallRecord, BridgeAttempt, HangupBy } from './session';
export type { EndpointScript } from './scripts';
export type { PeerOptions } from './core';
export { FrameReader, splitHeaderLine, fsUrlDecode, fsUrlEncode, type RawFrame } from './wire';
