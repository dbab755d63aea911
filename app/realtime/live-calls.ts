/**
 * Live calls over socket.io (path /live), with the same API keys as the REST API (`auth: { token }` in the
 * handshake, or an `Authorization: Bearer` header). Admins and agents join the room of every call; sellers and
 * buyers join their account's room and see only calls of their own (a seller its campaigns' calls, a buyer the
 * calls offered to it), each event cut to what their role may see (app/api/projections.ts, the same projection
 * as the REST API). Nodes share events through the socket.io Redis adapter, so a client connected to any node
 * sees calls handled by every node: the node handling a call publishes each event once, whole, with its
 * audience, and every node (itself included) projects it for the sockets connected there.
 */
import type http from 'node:http';
import type { Pool } from 'pg';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { closeRedis } from '../cache/redis';
import { WatcherPresence } from './watcher-presence';
import type { Logger } from '../observability/logger';
import type { CallEvent, CallEventBus } from '../exchange/call-events';
import type { ApiPrincipal } from '../store/api-keys';
import { keyRefusal } from '../api/auth';
import type { AuthFailureCounter } from '../api/auth-failure-limit';
import { concerns, type PrincipalCache } from '../api/principal-cache';
import type { AccessChange, AccessInvalidation } from '../api/access-invalidation';
import { z } from 'zod';
import { BID_BATCH_MAX, BidUpdate } from '../store/bid-updates';
import type { BidWriter } from '../store/bid-writer';
import { projectEvent, type Viewer } from '../api/projections';
import { viewerOf } from '../api/viewer';

/** `bids:update` payload: one update or a batch of them. */
const BidMessage = z.union([BidUpdate, z.object({ updates: z.array(BidUpdate).min(1).max(BID_BATCH_MAX) }).strict()]);
type Ack = (reply: unknown) => void;

export const ALL_CALLS_ROOM = 'calls:all';
export const accountRoom = (accountId: string): string => `calls:account:${accountId}`;
/** A seller account allowed to see buyer details gets a different projection, so its sockets join another room. */
export const accountDetailsRoom = (accountId: string): string => `calls:account-details:${accountId}`;
/** The node-to-node message carrying one call event and who it concerns. */
const CALL_EVENT = 'live:call-event';

export interface LiveCalls {
  close(): Promise<void>;
}

/** Who a call's events concern: its seller and the buyers offered it. */
interface Audience {
  seller?: string;
  buyers: string[];
}

/** Which accounts a call's events go to, learnt as the call moves (the seller at the decision, buyers per attempt). */
class CallAudience {
  private readonly calls = new Map<string, Audience>();

  of(e: CallEvent): Audience {
    let a = this.calls.get(e.callId);
    if (!a) {
      a = { buyers: [] };
      this.calls.set(e.callId, a);
    }
    if ('sellerAccountId' in e && e.sellerAccountId) a.seller = e.sellerAccountId;
    const buyer = e.type === 'call.attempt' || e.type === 'call.bridged' ? e.buyerAccountId : e.type === 'call.decided' ? e.winnerBuyerId : undefined;
    if (buyer && !a.buyers.includes(buyer)) a.buyers.push(buyer);
    if (e.type === 'call.ended') this.calls.delete(e.callId);
    return a; // read at once (serialised for the other nodes, delivered here) before the next event can change it
  }
}

function keyOf(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string' && auth.token.length > 0) return auth.token;
  const header = socket.handshake.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

export function attachLiveCalls(server: http.Server, deps: { pool: Pool; principals: PrincipalCache; access: Pick<AccessInvalidation, 'onChange'>; bids: BidWriter; events: CallEventBus; redisUrl: string; redisPrefix: string; logger: Logger; watcherHeartbeatMs?: number; authFailures?: AuthFailureCounter }): LiveCalls {
  const io = new Server(server, { path: '/live', serveClient: false });
  // The adapter publishes once per call event (five a call): with auto-pipelining the events of one turn of the
  // event loop leave in a single write, which under load is most of them. Live events need no ordering against
  // the switch, so the setImmediate flush is fine here (unlike the call journal).
  const pub = new Redis(deps.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null, enableAutoPipelining: true });
  const sub = pub.duplicate({ enableAutoPipelining: false });
  for (const c of [pub, sub]) c.on('error', (err: Error) => deps.logger.warn({ err: err.message }, 'live calls redis error'));
  io.adapter(createAdapter(pub, sub, { key: `${deps.redisPrefix}socket.io` }));
  const presence = new WatcherPresence(io, { heartbeatMs: deps.watcherHeartbeatMs });
  // The adapter subscribes as the connection comes up: a PING queued behind its SUBSCRIBEs answers once they are
  // in place, and only then can this node hear the other nodes answer. Again after every reconnection, since
  // announcements sent while it was away were lost.
  sub.on('ready', () => {
    sub.ping().then(
      () => presence.ask(),
      () => undefined, // closing, or the connection dropped again: the next 'ready' asks
    );
  });

  // An address that sent too many unknown or revoked keys (over REST or here: one count per address, the REST
  // API's) is refused before its key is looked up, for the rest of the minute.
  const refusedAddress = async (address: string): Promise<Error | undefined> => {
    const refused = await deps.authFailures?.refusal(address);
    if (!refused) return undefined;
    return Object.assign(new Error(`${refused.error.code}: ${refused.error.message}`), { data: { code: refused.error.code, retryAfterSec: refused.retryAfterSec } });
  };

  io.use((socket, next) => {
    const key = keyOf(socket);
    if (!key) {
      next(new Error('unauthenticated: send the API key as auth.token'));
      return;
    }
    const address = socket.handshake.address;
    refusedAddress(address)
      .then(async (limited) => {
        if (limited) return { refused: undefined, limited };
        const holder = await deps.principals.lookup(key);
        const refused = keyRefusal(holder);
        if (refused?.status === 401) await deps.authFailures?.record(address);
        return refused ? { refused } : { refused: undefined, principal: holder!.principal, viewer: await viewerOf(deps.pool, holder!.principal) };
      })
      .then(
        (found) => {
          if ('limited' in found && found.limited) next(found.limited);
          else if (found.refused) next(new Error(`${found.refused.code}: ${found.refused.message}`));
          else {
            socket.data.principal = found.principal;
            socket.data.viewer = found.viewer;
            socket.data.key = key;
            next();
          }
        },
        (err: Error) => {
          deps.logger.error({ err: err.message }, 'live calls authentication failed');
          next(new Error('authentication unavailable, try again'));
        },
      );
  });

  io.on('connection', (socket) => {
    const p = socket.data.principal as ApiPrincipal;
    const viewer = socket.data.viewer as Viewer;
    if (p.role === 'admin' || p.role === 'agent') void socket.join(ALL_CALLS_ROOM);
    else if (p.accountId) void socket.join(viewer.seesBuyerDetails ? accountDetailsRoom(p.accountId) : accountRoom(p.accountId));
    presence.watcherJoined();
    socket.once('disconnect', () => presence.watcherLeft());
    socket.emit('ready', { role: p.role, accountId: p.accountId ?? null });
    // Buyers (and admins) update standing bids; the ack lists each update's result in order.
    socket.on('bids:update', (payload: unknown, ack?: Ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (p.role !== 'buyer' && p.role !== 'admin') {
        reply({ error: { code: 'forbidden', message: 'only buyers and admins update bids' } });
        return;
      }
      const parsed = BidMessage.safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        reply({ error: { code: 'validation_failed', message: issue.message, field: issue.path.join('.') || undefined } });
        return;
      }
      const updates = 'updates' in parsed.data ? parsed.data.updates : [parsed.data];
      deps.bids.submit(p, updates).then(
        (results) => reply({ results }),
        (err: Error) => {
          deps.logger.error({ err: err.message, updates: updates.length }, 'bid update failed');
          reply({ error: { code: 'internal_error', message: 'bid update failed; nothing was changed' } });
        },
      );
    });
  });

  /** Sends one event to this node's sockets, each room its role's projection of it. */
  const deliver = (e: CallEvent, audience: Audience): void => {
    io.local.to(ALL_CALLS_ROOM).emit('call', e);
    const send = (room: string, viewer: Viewer) => {
      const visible = projectEvent(e, viewer);
      if (visible) io.local.to(room).emit('call', visible);
    };
    if (audience.seller) {
      send(accountRoom(audience.seller), { role: 'seller', accountId: audience.seller });
      send(accountDetailsRoom(audience.seller), { role: 'seller', accountId: audience.seller, seesBuyerDetails: true });
    }
    for (const buyer of audience.buyers) send(accountRoom(buyer), { role: 'buyer', accountId: buyer });
  };
  io.on(CALL_EVENT, (e: CallEvent, audience: Audience) => {
    try {
      deliver(e, audience);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, callId: e?.callId }, 'live call event from another node not delivered');
    }
  });

  // A key revoked or an account paused (on any node): this node's sockets it concerns are looked up again (the
  // cache has just dropped them, so from Postgres) and those now refused are told why and closed.
  const offAccess = deps.access.onChange((change: AccessChange) => {
    for (const socket of io.of('/').sockets.values()) {
      const p = socket.data.principal as ApiPrincipal | undefined;
      if (!p || !concerns(change, p)) continue;
      deps.principals.lookup(socket.data.key as string).then(
        (holder) => {
          const refused = keyRefusal(holder);
          if (!refused) return;
          socket.emit('access_revoked', { code: refused.code, message: refused.message });
          socket.disconnect(true);
          deps.logger.info({ keyId: p.keyId, accountId: p.accountId, code: refused.code }, 'live socket closed: its key is no longer accepted');
        },
        (err: Error) => {
          // Not known to be refused, but not known to be accepted: closed (the client reconnects and is checked).
          deps.logger.error({ err: err.message, keyId: p.keyId }, 'live socket key check failed; closing it');
          socket.disconnect(true);
        },
      );
    }
  });

  const audience = new CallAudience();
  // One publish per event, whole, with its audience, whatever the number of rooms and projections: the other nodes
  // project it for their own sockets (a publish per room and projection would multiply the Redis traffic of every call).
  const off = deps.events.on((e) => {
    const who = audience.of(e); // kept up to date even unwatched: a watcher may join mid-call
    if (!presence.anyoneWatching()) return;
    io.serverSideEmit(CALL_EVENT, e, who);
    deliver(e, who);
  });

  return {
    async close() {
      off();
      offAccess();
      presence.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.all([closeRedis(pub), closeRedis(sub)]);
    },
  };
}
