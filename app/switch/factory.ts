import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { SwitchAdapter } from './port';
import { FreeSwitchAdapter } from './freeswitch';

/**
 * What the caller hears, per prompt name the pipeline uses, as files of the switch's stock sound pack.
 * Operators replace them with recordings of their own (PROMPT_* variables).
 */
export function promptFiles(config: Config): Record<string, string> {
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
      default:
        throw new Error(`switch adapter "${name}" is not available in this build`);
    }
  });
}
