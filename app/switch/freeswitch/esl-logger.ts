/**
 * The `esl` library logs every frame at debug and reports ordinary closes as errors; the adapter logs failures
 * itself with call context, so the library's own lines go to trace only.
 */
import type { Logger } from '../../observability/logger';

type LibLog = (msg: string, data?: unknown) => void;

export function eslLibraryLogger(log: Logger): { debug: LibLog; info: LibLog; error: LibLog } {
  if (!log.isLevelEnabled('trace')) {
    const quiet: LibLog = () => undefined;
    return { debug: quiet, info: quiet, error: quiet };
  }
  const trace: LibLog = (msg, data) => log.trace({ esl: data }, msg);
  return { debug: trace, info: trace, error: trace };
}
