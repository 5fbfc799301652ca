/** Child process: our proxy (apps/demo-proxy) in front of one upstream. */
import { send } from './ipc.ts';

await send({ type: 'failed', error: 'demo-proxy has not landed on this branch yet' });
process.exit(0);
