import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * undici's `kQueuedAbort` (a private symbol of lib/core/symbols.js). A dispatcher that queues a
 * request (undici's Pool while it connects, the pool package's DispatchGate while the origin is
 * full) calls the option under this key with a function that takes the request out of its
 * queue; undici's own `request()` passes it, and `dispatch()` callers must pass it themselves.
 * Without it an abort waits until the request starts (it is then stopped before its stream
 * opens), holding its place in the queue meanwhile. Missing in another undici build: that wait.
 */
export const kQueuedAbort: symbol | undefined = (() => {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('undici');
    const symbols = require(path.join(path.dirname(main), 'lib', 'core', 'symbols.js')) as {
      kQueuedAbort?: unknown;
    };
    return typeof symbols.kQueuedAbort === 'symbol' ? symbols.kQueuedAbort : undefined;
  } catch {
    return undefined;
  }
})();
