/**
 * A socket.io client on a node's /live endpoint, as the dashboard connects: the API key in the handshake,
 * WebSocket only, no reconnection. Resolves once the node said `ready` (rejects with the node's refusal);
 * `events` collects the call events it receives.
 */
import { io as connect, type Socket } from 'socket.io-client';
import type { CallEvent } from '../../app/exchange/call-events';

export async function connectLive(port: number, key: string | undefined): Promise<{ socket: Socket; events: CallEvent[] }> {
  const socket = connect(`http://127.0.0.1:${port}`, { path: '/live', auth: key ? { token: key } : {}, transports: ['websocket'], reconnection: false });
  const events: CallEvent[] = [];
  socket.on('call', (e: CallEvent) => events.push(e));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('ready', () => resolve());
      socket.once('connect_error', reject);
    });
  } catch (err) {
    socket.disconnect();
    throw err;
  }
  return { socket, events };
}
