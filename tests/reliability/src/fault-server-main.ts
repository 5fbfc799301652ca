// Runs a fault server in its own process, so a test can kill it mid-request and start it again
// on the same port. Prints `{"port":N}` on stdout once listening.
import { startFaultServer } from './fault-server.ts';

const server = await startFaultServer({ port: Number(process.argv[2] ?? 0) });
// One line per held call, so a test can kill this process while calls are in flight.
server.events.on('held', () => process.stdout.write(`${JSON.stringify({ held: server.held })}\n`));
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
