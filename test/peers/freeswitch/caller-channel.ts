/**
 * Builds the channel of a call arriving from a carrier over SIP, with the variables sofia sets on an INVITE
 * (in the order of the recorded CHANNEL_DATA), SIP X-/P- headers as `sip_h_<Name>`, and the variables the
 * dialplan set before handing the call to the `socket` application.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PeerChannel, nowMicros, type ChannelDetail } from './channel';

export interface CallerChannelOptions {
  uuid?: string;
  /** Caller number as the carrier sent it (From user); becomes Caller-Caller-ID-Number and Caller-ANI. */
  ani: string;
  /** Dialled tracking number (Request-URI user); becomes Caller-Destination-Number. */
  dnis: string;
  callerName?: string;
  /** SIP headers the INVITE carried, e.g. { 'X-Lead-Id': 'L-1' }: set as variable_sip_h_X-Lead-Id. */
  sipHeaders?: Record<string, string>;
  /**
   * A P-Asserted-Identity header; sofia keeps its user part in `sip_P-Asserted-Identity` (the whole header with
   * `p-asserted-id-parse=verbatim`), so pass the value FreeSWITCH would store.
   */
  pAssertedIdentity?: string;
  /** Variables set by the dialplan before `socket` (e.g. sip_verstat_detailed from sofia_stir_shaken_vs). */
  variables?: Record<string, string>;
  carrierIp?: string;
  sofiaProfile?: string;
  context?: string;
}

let sessionCounter = 0;

export function callerChannel(opts: CallerChannelOptions, detail: ChannelDetail, socketData: string): PeerChannel {
  const ip = opts.carrierIp ?? '127.0.0.1';
  const profileName = opts.sofiaProfile ?? 'external';
  const name = opts.callerName ?? opts.ani;
  const channelName = `sofia/${profileName}/${opts.ani}@${ip}:5060`;
  const ch = new PeerChannel(
    opts.uuid ?? randomUUID(),
    {
      direction: 'inbound',
      username: opts.ani,
      dialplan: 'XML',
      callerIdName: name,
      callerIdNumber: opts.ani,
      networkAddr: ip,
      ani: opts.ani,
      destinationNumber: opts.dnis,
      source: 'mod_sofia',
      context: opts.context ?? 'public',
      channelName,
    },
    detail,
  );
  const full = detail === 'full';
  const set = (k: string, v: string): void => ch.setVar(k, v);
  const fset = (k: string, v: string): void => {
    if (full) ch.setVar(k, v);
  };
  const tag = randomBytes(6).toString('hex');
  const callId = `${randomBytes(8).toString('hex')}@${ip}`;
  set('direction', 'inbound');
  set('uuid', ch.uuid);
  fset('session_id', String(++sessionCounter));
  set('sip_from_user', opts.ani);
  fset('sip_from_port', '5060');
  fset('sip_from_uri', `${opts.ani}@${ip}:5060`);
  set('sip_from_host', ip);
  fset('video_media_flow', 'disabled');
  fset('text_media_flow', 'disabled');
  set('channel_name', channelName);
  set('sip_call_id', callId);
  fset('sip_local_network_addr', '127.0.0.1');
  set('sip_network_ip', ip);
  fset('sip_network_port', '5060');
  fset('sip_invite_stamp', String(nowMicros()));
  fset('sip_received_ip', ip);
  fset('sip_received_port', '5060');
  fset('sip_via_protocol', 'udp');
  fset('sip_from_user_stripped', opts.ani.replace(/^\+/, ''));
  fset('sip_from_tag', tag);
  set('sofia_profile_name', profileName);
  fset('sofia_profile_url', 'sip:mod_sofia@127.0.0.1:5080');
  fset('recovery_profile_name', profileName);
  if (opts.pAssertedIdentity !== undefined) {
    set('sip_P-Asserted-Identity', opts.pAssertedIdentity);
    set('sip_cid_type', 'pid');
  }
  fset('sip_full_via', `SIP/2.0/UDP ${ip}:5060;branch=z9hG4bK-${tag}`);
  fset('sip_from_display', name);
  fset('sip_full_from', `${name} <sip:${opts.ani}@${ip}:5060>;tag=${tag}`);
  fset('sip_to_display', opts.dnis);
  fset('sip_full_to', `${opts.dnis} <sip:${opts.dnis}@127.0.0.1:5080>`);
  set('sip_req_user', opts.dnis);
  fset('sip_req_port', '5080');
  fset('sip_req_uri', `${opts.dnis}@127.0.0.1:5080`);
  fset('sip_req_host', '127.0.0.1');
  set('sip_to_user', opts.dnis);
  fset('sip_to_port', '5080');
  fset('sip_to_uri', `${opts.dnis}@127.0.0.1:5080`);
  fset('sip_to_host', '127.0.0.1');
  fset('sip_contact_user', opts.ani);
  fset('sip_contact_port', '5060');
  fset('sip_contact_uri', `${opts.ani}@${ip}:5060`);
  fset('sip_contact_host', ip);
  for (const [h, v] of Object.entries(opts.sipHeaders ?? {})) set(`sip_h_${h}`, v);
  fset('sip_via_host', ip);
  fset('sip_via_port', '5060');
  fset('max_forwards', '70');
  fset(
    'switch_r_sdp',
    `v=0\r\no=carrier 1 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n`,
  );
  fset('ep_codec_string', 'CORE_PCM_MODULE.PCMA@8000h@20i@64000b');
  fset('rtp_use_codec_string', 'PCMU,PCMA');
  fset('remote_video_media_flow', 'inactive');
  fset('remote_text_media_flow', 'inactive');
  fset('remote_audio_media_flow', 'sendrecv');
  fset('audio_media_flow', 'sendrecv');
  fset('remote_media_ip', ip);
  fset('remote_media_port', '6000');
  fset('rtp_audio_recv_pt', '8');
  fset('rtp_use_codec_name', 'PCMA');
  fset('rtp_use_codec_rate', '8000');
  fset('rtp_use_codec_ptime', '20');
  fset('rtp_use_codec_channels', '1');
  fset('rtp_last_audio_codec_string', 'PCMA@8000h@20i@1c');
  fset('read_codec', 'PCMA');
  fset('original_read_codec', 'PCMA');
  fset('read_rate', '8000');
  fset('original_read_rate', '8000');
  fset('write_codec', 'PCMA');
  fset('write_rate', '8000');
  fset('dtmf_type', 'info');
  set('endpoint_disposition', 'RECEIVED');
  set('call_uuid', ch.uuid);
  for (const [k, v] of Object.entries(opts.variables ?? {})) set(k, v);
  markSocketApplication(ch, socketData);
  return ch;
}

/** The variables the `socket` application leaves on a channel before it connects. */
export function markSocketApplication(ch: PeerChannel, socketData: string): void {
  ch.setVar('current_application_data', socketData);
  ch.setVar('current_application', 'socket');
  const host = socketData.split(' ')[0]?.split('|')[0]?.split(':')[0] ?? '';
  ch.setVar('socket_host', host);
}
