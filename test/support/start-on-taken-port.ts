/**
 * Run as a child process by the node start-failure test: starts a node on an HTTP port that is taken, prints the
 * error, and returns without calling process.exit. The process ends only if the failed start left nothing open.
 */
import { startTestNode } from './node';

async function main(): Promise<void> {
  const [schema, prefix, port] = process.argv.slice(2) as [string, string, string];
  try {
    await startTestNode({ schema, prefix }, { HTTP_PORT: port });
    process.stdout.write('STARTED\n');
  } catch (err) {
    process.stdout.write(`FAILED ${(err as Error).message}\n`);
  }
}

void main();
