/**
 * Live calls over socket.io (path /live), with the same API keys as the REST API (`auth: { token }` in the
 * handshake, or an `Authorization: Bearer` header). Admins and agents join the room of every call; sellers and
 * buyers join their account's room and see only calls of their own (a seller its campaigns' calls, a buyer the
 * calls offered to it). Nodes share events through the socket.io Redis adapter, so a client connected to any
 * node sees calls handled by every node.
 */
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { closeRedis } from '../cache/redis';
import { WatcherPresence } from './watcher-presence';
import type { Logger } from '../observability/logger';
import type { CallEvent, CallEventBus } from '../exchange/call-events';
import type { ApiPrincipal } from '../store/api-keys';
import { keyRefusal } from '../api/auth';
import { concerns, type PrincipalCache } from '../api/principal-cache';
import type { AccessChange, AccessInvalidation } from '../api/access-invalidation';
import { z } from 'zod';
import { BID_BATCH_MAX, BidUpdate } from '../store/bid-updates';
import type { BidWriter } from '../store/bid-writer';

/** `bids:update` payload: one update or a batch of them. */
const BidMessage = z.union([BidUpdate, z.object({ updates: z.array(BidUpdate).min(1).max(BID_BATCH_MAX) }).strict()]);
type Ack = (reply: unknown) => void;

export const ALL_CALLS_ROOM = 'calls:all';
export const accountRoom = (accountId: string): string => `calls:account:${accountId}`;

export interface LiveCalls {
  close(): Promise<void>;
}

/** Which accounts a call's events go to, learnt as the call moves (the seller at the decision, buyers per attempt). */
class CallAudience {
  private readonly calls = new Map<string, Set<string>>();

  roomsFor(e: CallEvent): string[] {
    let accounts = this.calls.get(e.callId);
    if (!accounts) {
      accounts = new Set();
      this.calls.set(e.callId, accounts);
    }
    if ('sellerAccountId' in e && e.sellerAccountId) accounts.add(e.sellerAccountId);
    if (e.type === 'call.attempt' || e.type === 'call.bridged') accounts.add(e.buyerAccountId);
    if (e.type === 'call.decided' && e.winnerBuyerId) accounts.add(e.winnerBuyerId);
    const rooms = [ALL_CALLS_ROOM, ...[...accounts].map(accountRoom)];
    if (e.type === 'call.ended') this.calls.delete(e.callId);
    return rooms;
  }
}

function keyOf(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string' && auth.token.length > 0) return auth.token;
  const header = socket.handshake.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

export function attachLiveCalls(server: http.Server, deps: { principals: PrincipalCache; access: Pick<AccessInvalidation, 'onChange'>; bids: BidWriter; events: CallEventBus; redisUrl: string; redisPrefix: string; logger: Logger; watcherHeartbeatMs?: number }): LiveCalls {
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

  io.use((socket, next) => {
    const key = keyOf(socket);
    if (!key) {
      next(new Error('unauthenticated: send the API key as auth.token'));
      return;
    }
    deps.principals.lookup(key).then(
      (holder) => {
        const refused = keyRefusal(holder);
        if (refused) next(new Error(`${refused.code}: ${refused.message}`));
        else {
          socket.data.principal = holder!.principal;
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
    if (p.role === 'admin' || p.role === 'agent') void socket.join(ALL_CALLS_ROOM);
    else if (p.accountId) void socket.join(accountRoom(p.accountId));
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
  // One emit to every room the call concerns: socket.io sends it once to each socket in any of them, and the
  // Redis adapter publishes it once (a publish per room doubled the Redis traffic of every call).
  const off = deps.events.on((e) => {
    const rooms = audience.roomsFor(e); // kept up to date even unwatched: a watcher may join mid-call
    if (presence.anyoneWatching()) io.to(rooms).emit('call', e);
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
