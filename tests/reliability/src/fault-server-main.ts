// Runs a fault server in its own process, so a test can kill it mid-request and start it again
// on the same port. Prints `{"port":N}` on stdout once listening.
import { startFaultServer } from './fault-server.ts';

const server = await startFaultServer(Number(process.argv[2] ?? 0));
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
