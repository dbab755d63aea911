import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { SwitchAdapter } from './port';
import { FreeSwitchAdapter } from './freeswitch';
import { AsteriskAdapter } from './asterisk';

/**
 * What the caller hears, per prompt name the pipeline uses, as files of the switch's stock sound pack.
 * Operators replace them with recordings of their own (PROMPT_* for FreeSWITCH, ARI_PROMPT_* for Asterisk).
 */
export function promptFiles(config: Config, switchName: 'freeswitch' | 'asterisk' = 'freeswitch'): Record<string, string> {
  if (switchName === 'asterisk') {
    return {
      no_buyer_available: config.ARI_PROMPT_NO_BUYER,
      number_not_in_service: config.ARI_PROMPT_NOT_IN_SERVICE,
      call_cannot_be_completed: config.ARI_PROMPT_REJECTED,
      technical_difficulties: config.ARI_PROMPT_ERROR,
    };
  }
  return {
    no_buyer_available: config.PROMPT_NO_BUYER,
    number_not_in_service: config.PROMPT_NOT_IN_SERVICE,
    call_cannot_be_completed: config.PROMPT_REJECTED,
    technical_difficulties: config.PROMPT_ERROR,
  };
}

/** The switch adapters named in SWITCHES, configured from the environment. */
export function createSwitchAdapters(config: Config, logger: Logger): SwitchAdapter[] {
  return config.SWITCHES.map((name): SwitchAdapter => {
    switch (name) {
      case 'freeswitch':
        return new FreeSwitchAdapter({
          outboundListen: { host: config.FS_OUTBOUND_HOST, port: config.FS_OUTBOUND_PORT },
          inbound: { host: config.FS_ESL_HOST, port: config.FS_ESL_PORT, password: config.FS_ESL_PASSWORD },
          sofiaProfile: config.FS_SOFIA_PROFILE,
          ...(config.FS_BUYER_GATEWAY ? { buyerGateway: config.FS_BUYER_GATEWAY } : {}),
          ...(config.FS_CONSUMER_GATEWAY ? { consumerGateway: config.FS_CONSUMER_GATEWAY } : {}),
          ...(config.FS_ORIGINATE_SOCKET_ADDRESS ? { originateSocketAddress: config.FS_ORIGINATE_SOCKET_ADDRESS } : {}),
          prompts: promptFiles(config),
          logger,
        });
      case 'asterisk':
        return new AsteriskAdapter({
          url: config.ARI_URL,
          username: config.ARI_USERNAME,
          password: config.ARI_PASSWORD,
          app: config.ARI_APP,
          buyerTrunk: config.ARI_BUYER_TRUNK,
          consumerTrunk: config.ARI_CONSUMER_TRUNK,
          restClient: config.ARI_REST_CLIENT,
          bridgePoolMax: config.ARI_BRIDGE_POOL,
          prompts: promptFiles(config, 'asterisk'),
          logger,
        });
      default:
        throw new Error(`switch adapter "${name}" is not available in this build`);
    }
  });
}
