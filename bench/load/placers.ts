/**
 * CallPlacers: one per switch peer, so the load generator and the CPS benchmark drive either switch the same way.
 * Setup time is measured where the switch would see it: FreeSWITCH from the `socket` application's TCP connect to
 * the first bridge command; Asterisk from StasisStart to the first buyer originate (POST /channels).
 */
import type { FreeSwitchPeer } from '../../test/peers/freeswitch';
import type { CallRecord } from '../../test/peers/freeswitch/session';
import type { AsteriskPeer } from '../../test/peers/asterisk';
import type { CallPlacer, PlacedCallHandle } from './call-driver';

type AppAddress = { host: string; port: number };

/**
 * With several app addresses (several exchange nodes), each call lists them all, as a dialplan's `socket a|b`
 * does, starting at the next one in turn: calls alternate, and a node that refuses is failed over to the next.
 * `onRecord` sees each finished call's record (which address it reached, its bridges).
 */
export function freeswitchPlacer(peer: FreeSwitchPeer, app: AppAddress | AppAddress[], onRecord?: (record: CallRecord) => void): CallPlacer {
  const apps = Array.isArray(app) ? app : [app];
  let turn = 0;
  return {
    switchName: 'freeswitch',
    place({ ani, dnis, talkMs }): PlacedCallHandle {
      const started = Date.now();
      const first = turn++ % apps.length;
      const order = apps.length === 1 ? apps[0]! : [...apps.slice(first), ...apps.slice(0, first)];
      const session = peer.placeCall({ app: order, ani, dnis, hangupAfterBridgeMs: talkMs });
      return {
        hangup: () => session.callerHangup(),
        finished: session.finished.then((record) => {
          onRecord?.(record);
          const first = record.bridges[0];
          if (record.bridges.some((b) => b.result === 'SUCCESS') && first) return { bridged: true, setupMs: first.startedAt - started };
          const last = record.bridges[record.bridges.length - 1];
          return { bridged: false, failure: record.connectFailed ? 'connect_failed' : last ? `bridge_${last.result}` : `hangup_${record.hangupCause ?? 'unknown'}` };
        }),
      };
    },
    bridgedNow: () => [...peer.liveSessions].filter((s) => s.record.bridges.some((b) => b.result === 'SUCCESS' && b.endedAt === undefined)).length,
  };
}

export function asteriskPlacer(peer: AsteriskPeer): CallPlacer {
  return {
    switchName: 'asterisk',
    place({ ani, dnis, talkMs }): PlacedCallHandle {
      const call = peer.placeCall({ ani, dnis, hangupAfterBridgeMs: talkMs });
      return {
        hangup: () => call.hangup(),
        finished: call.finished.then((record) => {
          if (record.bridgedWith.length > 0) {
            return { bridged: true, setupMs: record.firstDialAt !== undefined ? record.firstDialAt - record.enteredAt : undefined };
          }
          if (record.stasis === 'failed') return { bridged: false, failure: 'stasis_failed' };
          return { bridged: false, failure: `hangup_${record.endedBy ?? 'unknown'}_${record.cause ?? 0}` };
        }),
      };
    },
    bridgedNow: () => {
      let n = 0;
      for (const call of peer.scenarios.liveCalls.values()) if (call.record.bridgedWith.length > 0) n++;
      return n;
    },
  };
}
