/**
 * Run as a child process by the durability test: starts an exchange node with no recorder, routes one call
 * until it is bridged, then dies with SIGKILL (no shutdown hooks, nothing flushed).
 */
import { ScriptedLeg } from './scripted-leg';
import { startTestNode } from './node';

async function main(): Promise<void> {
  const [schema, prefix, did, ani] = process.argv.slice(2) as [string, string, string, string];
  const node = await startTestNode({ schema, prefix } as never, { RECORDER_ENABLED: 'false', MIGRATE_ON_START: 'false' });
  const leg = new ScriptedLeg('crash-leg', () => ({ kind: 'hold' }));
  void node.flow.run(leg, { switchCallId: 'crash-leg', switchName: 'test', ani, dnis: did, direction: 'inbound' });
  const deadline = Date.now() + 5_000;
  while (leg.bridged.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  process.stdout.write(leg.bridged.length ? 'BRIDGED\n' : 'NOT-BRIDGED\n');
  process.kill(process.pid, 'SIGKILL');
}

void main();
