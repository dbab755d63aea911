/**
 * The inbound ESL endpoint (port 8021 on a real switch): `auth/request`, password check, then api/bgapi, events,
 * filters and sendmsg to any channel. Tests can drop every connection, inject garbage, stall, or refuse.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { EslCommand } from './commands';
import { header } from './commands';
import type { PeerCore } from './core';
import { EslListener } from './listener';
import { AUTH_REQUEST } from './wire';

class InboundConnection extends EslListener {
  private authed = false;

  constructor(core: PeerCore, socket: Socket, private readonly server: InboundServer) {
    super(core);
    this.attach(socket);
    this.write(AUTH_REQUEST);
  }

  protected get sessionUuid(): undefined {
    return undefined;
  }

  protected handleSpecific(cmd: EslCommand, verb: string): boolean {
    if (!this.authed) {
      if (verb === 'auth') {
        this.server.authAttempts.push(Date.now());
        if (cmd.line.slice(5) === this.server.password) {
          this.authed = true;
          this.reply('+OK accepted');
        } else {
          this.reply('-ERR invalid');
          this.kill();
        }
      } else {
        this.reply('-ERR command not found');
      }
      return true;
    }
    if (verb === 'sendmsg') {
      const uuid = cmd.line.slice(7).trim() || header(cmd, 'session-id') || '';
      const target = this.core.live.get(uuid);
      if (!target?.receiveMessage) {
        this.reply(`-ERR invalid session id [${uuid === '' ? '(null)' : uuid}]`);
        return true;
      }
      this.reply('+OK');
      target.receiveMessage(cmd);
      return true;
    }
    return false;
  }

  protected onClosed(): void {
    this.server.connections.delete(this);
  }
}

export class InboundServer {
  readonly connections = new Set<InboundConnection>();
  /** Time of every `auth` attempt (to check a client backs off after a wrong password). */
  readonly authAttempts: number[] = [];
  /** Time of every accepted TCP connection. */
  readonly connectTimes: number[] = [];
  password: string;
  /** Accept then close at once, as a switch that is going down. */
  refuse = false;
  private server: Server | undefined;
  private stalledFlag = false;

  constructor(private readonly core: PeerCore, opts: { password?: string } = {}) {
    this.password = opts.password ?? 'ClueCon';
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    const server = createServer((socket) => {
      this.connectTimes.push(Date.now());
      if (this.refuse) {
        socket.destroy();
        return;
      }
      const conn = new InboundConnection(this.core, socket, this);
      conn.stalled = this.stalledFlag;
      this.connections.add(conn);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  /** Cuts every inbound connection without a goodbye (a restarted switch). */
  dropConnections(): void {
    for (const c of [...this.connections]) c.destroy();
  }

  /** Writes raw bytes to every inbound connection. */
  injectRaw(data: string | Buffer): void {
    for (const c of this.connections) c.write(data);
  }

  /** Stops answering on every connection (current and new). */
  stall(on = true): void {
    this.stalledFlag = on;
    for (const c of this.connections) c.stalled = on;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.dropConnections();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
