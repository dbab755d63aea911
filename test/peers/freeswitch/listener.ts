/**
 * One ESL connection as FreeSWITCH serves it (a mod_event_socket "listener"): reads commands in order, answers
 * each with command/reply or api/response, and delivers subscribed events. The outbound-socket session and the
 * inbound (port 8021) connection both build on it.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { eventBase } from './channel';
import { CommandReader, header, type EslCommand } from './commands';
import type { PeerCore } from './core';
import { newSubscription, type EventFrame, type EventSink } from './event-bus';
import { executeApi } from './api';
import { apiResponse, commandReply, disconnectNotice, type Header } from './wire';

/** Event names `myevents` subscribes to (mod_event_socket parse_command). */
export const MYEVENTS_NAMES = [
  'CHANNEL_ANSWER',
  'CHANNEL_APPLICATION',
  'CHANNEL_BRIDGE',
  'CHANNEL_CREATE',
  'CHANNEL_DATA',
  'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_ORIGINATE',
  'CHANNEL_UUID',
  'CHANNEL_OUTGOING',
  'CHANNEL_PARK',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_UNPARK',
  'DETECTED_SPEECH',
  'DTMF',
  'NOTALK',
  'TALK',
];

/** Event names FreeSWITCH knows (switch_event_types_t); anything else in an `event` command is ignored. */
const KNOWN_EVENTS = new Set([
  ...MYEVENTS_NAMES,
  'CUSTOM', 'CLONE', 'CHANNEL_CALLSTATE', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'API', 'LOG', 'INBOUND_CHAN',
  'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH', 'UNPUBLISH', 'SESSION_CRASH', 'MODULE_LOAD', 'MODULE_UNLOAD',
  'MESSAGE', 'PRESENCE_IN', 'NOTIFY_IN', 'PRESENCE_OUT', 'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY',
  'ROSTER', 'CODEC', 'BACKGROUND_JOB', 'DETECTED_TONE', 'PRIVATE_COMMAND', 'HEARTBEAT', 'TRAP', 'ADD_SCHEDULE',
  'DEL_SCHEDULE', 'EXE_SCHEDULE', 'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE', 'PHONE_FEATURE_SUBSCRIBE',
  'SEND_MESSAGE', 'RECV_MESSAGE', 'REQUEST_PARAMS', 'GENERAL', 'COMMAND', 'SESSION_HEARTBEAT', 'CLIENT_DISCONNECTED',
  'SERVER_DISCONNECTED', 'SEND_INFO', 'RECV_INFO', 'RECV_RTCP_MESSAGE', 'SEND_RTCP_MESSAGE', 'CALL_SECURE', 'NAT',
  'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CALL_UPDATE', 'FAILURE', 'SOCKET_DATA',
  'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA', 'CALL_SETUP_REQ',
  'CALL_SETUP_RESULT', 'CALL_DETAIL', 'DEVICE_STATE', 'TEXT', 'SHUTDOWN_REQUESTED', 'ALL',
]);

export abstract class EslListener implements EventSink {
  readonly subscription = newSubscription();
  /** Every command received, in order (kept when the peer records). */
  readonly commands: EslCommand[] = [];
  protected socket: Socket | undefined;
  protected closed = false;
  /** While stalled the listener swallows input and answers nothing (a hung switch). */
  stalled = false;
  private readonly reader = new CommandReader();
  private queue: Promise<void> = Promise.resolve();
  private readonly commandWatchers = new Set<(cmd: EslCommand) => void>();

  constructor(protected readonly core: PeerCore) {}

  /** The session this listener controls (outbound sockets), if any. */
  protected abstract get sessionUuid(): string | undefined;

  /** Handles commands specific to the listener kind; returns false to fall through to the common ones. */
  protected abstract handleSpecific(cmd: EslCommand, verb: string): Promise<boolean> | boolean;

  /** Called once when the socket is gone. */
  protected abstract onClosed(): void;

  /** Calls `fn` for every command from now on; returns an unsubscribe function. */
  onCommand(fn: (cmd: EslCommand) => void): () => void {
    this.commandWatchers.add(fn);
    return () => this.commandWatchers.delete(fn);
  }

  protected attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.socketGone());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  deliver(frame: EventFrame, _eventName: string): void {
    if (this.stalled) return;
    this.core.wire.events++;
    this.core.wire.eventBytes += frame.head.length + frame.body.length;
    this.write(frame.head);
    this.write(frame.body);
  }

  /**
   * Writes bytes (tests also use it to inject garbage). Writes made in one turn of the event loop go out as one
   * socket write (the socket is corked until the next tick, so the pieces are not copied into one string first);
   * order is kept.
   */
  write(data: string | Buffer): void {
    const s = this.socket;
    if (this.closed || !s || s.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => this.flush());
    }
    s.write(data);
  }

  private corked = false;

  protected flush(): void {
    if (!this.corked) return;
    this.corked = false;
    const s = this.socket;
    if (!s || s.destroyed) return;
    s.uncork();
    const limit = this.core.options.maxQueuedBytes ?? 64 * 1024 * 1024;
    if (s.writableLength > limit) this.kill('killed listener because of lost events\n');
  }

  protected reply(text: string, extra: readonly Header[] = []): void {
    this.write(commandReply(text, extra));
  }

  /** Sends the disconnect notice and closes, as the listener thread does when it ends. */
  kill(_reason = 'disconnect'): void {
    if (this.closed) return;
    this.write(disconnectNotice(this.sessionUuid));
    this.closeSocket();
  }

  /** Closes without a notice (a crashed switch or a cut cable). */
  destroy(): void {
    this.socket?.destroy();
    this.socketGone();
  }

  protected closeSocket(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.core.bus.remove(this);
    this.socket?.end();
  }

  private socketGone(): void {
    if (!this.closed) {
      this.closed = true;
      this.core.bus.remove(this);
    }
    if (this.socket) {
      const s = this.socket;
      this.socket = undefined;
      s.destroy();
      this.onClosed();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.stalled || this.closed) return;
    let cmds: EslCommand[];
    try {
      cmds = this.reader.push(chunk);
    } catch {
      this.kill('framing error');
      return;
    }
    for (const cmd of cmds) {
      this.queue = this.queue.then(() => this.dispatch(cmd)).catch(() => undefined);
    }
  }

  private async dispatch(cmd: EslCommand): Promise<void> {
    if (this.closed) return;
    this.core.wire.commands++;
    if (this.core.options.record !== false) this.commands.push(cmd);
    for (const w of this.commandWatchers) w(cmd);
    const verb = (cmd.line.split(' ')[0] ?? '').toLowerCase();
    if (verb === 'exit' || verb === '...') {
      this.reply('+OK bye');
      this.kill();
      return;
    }
    if (await this.handleSpecific(cmd, verb)) return;
    switch (verb) {
      case 'event':
        this.eventCommand(cmd.line);
        return;
      case 'nixevent':
        this.nixeventCommand(cmd.line);
        return;
      case 'noevents':
        if (this.subscription.enabled) {
          Object.assign(this.subscription, { enabled: false, all: false, names: new Set<string>() });
          this.core.bus.update(this);
          this.reply('+OK no longer listening for events');
        } else {
          this.reply('-ERR not listening for events');
        }
        return;
      case 'filter':
        this.filterCommand(cmd.line);
        return;
      case 'api':
        await this.apiCommand(cmd.line.slice(4).trim());
        return;
      case 'bgapi':
        this.bgapiCommand(cmd);
        return;
      case 'log':
        this.reply(`+OK log level ${cmd.line.split(' ')[1] ?? 'debug'} [7]`);
        return;
      case 'nolog':
        this.reply('-ERR not loging');
        return;
      case 'sendevent':
        this.reply(`+OK ${randomUUID()}`);
        return;
      default:
        this.reply('-ERR command not found');
    }
  }

  private eventCommand(line: string): void {
    const words = line.split(' ').slice(1).filter((w) => w !== '');
    const sub = this.subscription;
    let keys = 0;
    words.forEach((w, i) => {
      const lower = w.toLowerCase();
      if (i === 0 && (lower === 'plain' || lower === 'json' || lower === 'xml')) {
        sub.format = lower;
        return;
      }
      const name = w.toUpperCase();
      if (!KNOWN_EVENTS.has(name)) return;
      keys++;
      if (name === 'ALL') sub.all = true;
      sub.names.add(name);
    });
    if (keys === 0) {
      this.reply('-ERR no keywords supplied');
      return;
    }
    sub.enabled = true;
    this.core.bus.update(this);
    this.reply(`+OK event listener enabled ${sub.format}`);
  }

  private nixeventCommand(line: string): void {
    const sub = this.subscription;
    let keys = 0;
    for (const w of line.split(' ').slice(1)) {
      const name = w.toUpperCase();
      if (!KNOWN_EVENTS.has(name)) continue;
      keys++;
      if (name === 'ALL') {
        sub.all = false;
        sub.names.clear();
      } else {
        if (sub.all) {
          sub.all = false;
          for (const n of KNOWN_EVENTS) if (n !== 'ALL') sub.names.add(n);
        }
        sub.names.delete(name);
      }
    }
    if (keys === 0) {
      this.reply('-ERR no keywords supplied');
      return;
    }
    sub.enabled = true;
    this.core.bus.update(this);
    this.reply('+OK events nixed');
  }

  private filterCommand(line: string): void {
    let rest = line.slice(6).replace(/^ +/, '');
    let sp = rest.indexOf(' ');
    let name = sp < 0 ? rest : rest.slice(0, sp);
    let value: string | undefined = sp < 0 ? undefined : rest.slice(sp + 1);
    const filters = this.subscription.filters;
    if (name.toLowerCase() === 'delete' && value !== undefined) {
      rest = value;
      sp = rest.indexOf(' ');
      name = sp < 0 ? rest : rest.slice(0, sp);
      value = sp < 0 ? undefined : rest.slice(sp + 1);
      if (name.toLowerCase() === 'all') filters.length = 0;
      else {
        for (let i = filters.length - 1; i >= 0; i--) {
          const f = filters[i] as [string, string];
          if (f[0].toLowerCase() === name.toLowerCase() && (value === undefined || f[1] === value)) filters.splice(i, 1);
        }
      }
      this.core.bus.update(this);
      this.reply(`+OK filter deleted. [${name}][${value ?? '(null)'}]`);
      return;
    }
    if (value === undefined) {
      this.reply('-ERR invalid syntax');
      return;
    }
    if (name.toLowerCase() === 'add') {
      rest = value;
      sp = rest.indexOf(' ');
      name = sp < 0 ? rest : rest.slice(0, sp);
      value = sp < 0 ? '' : rest.slice(sp + 1);
    }
    filters.push([name, value]);
    this.core.bus.update(this);
    this.reply(`+OK filter added. [${name}]=[${value}]`);
  }

  private async apiCommand(command: string): Promise<void> {
    const body = await executeApi(this.core, command);
    this.write(apiResponse(body));
  }

  private bgapiCommand(cmd: EslCommand): void {
    const command = cmd.line.slice(6).trim();
    const jobUuid = header(cmd, 'job-uuid') ?? randomUUID();
    const owner = this.sessionUuid;
    this.write(`Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n\n`);
    const sp = command.indexOf(' ');
    const name = sp < 0 ? command : command.slice(0, sp);
    const argText = sp < 0 ? '' : command.slice(sp + 1);
    void executeApi(this.core, command).then((result) => {
      this.core.bus.publish({
        name: 'BACKGROUND_JOB',
        jobOwnerUuid: owner,
        body: result,
        build: () => {
          const head = eventBase(this.core.identity, 'BACKGROUND_JOB', this.core.nextSequence());
          head.push(['Job-UUID', jobUuid], ['Job-Command', name], ['Job-Command-Arg', argText]);
          if (owner) head.push(['Job-Owner-UUID', owner]);
          return { head, channel: undefined, withVars: false, tail: [] };
        },
      });
    });
  }
}
