/**
 * The proxy under attack, in a process of its own: an example upstream (official SDK, h2c) and
 * the proxy in front of it, on 127.0.0.1. Prints `url <proxy url>` once listening, then
 * `beat <rss MB>` every 100 ms while its event loop turns. Extra proxy limits come as JSON in
 * the first argument. Ends when its parent goes (IPC disconnect).
 *
 *   node src/security/victim.ts '{"limits":{"connectionIdleTimeoutMs":500}}'
 */
import type { ProxyConfigInput } from '../config.ts';
import { startHarness } from '../test-support.ts';

const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<ProxyConfigInput>;
const harness = await startHarness({}, overrides);
console.log(`url ${harness.proxy.url}`);
setInterval(() => {
  console.log(`beat ${Math.round(process.memoryUsage().rss / 1e6)}`);
}, 100);
process.on('disconnect', () => process.exit(0));
