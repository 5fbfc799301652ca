import type { HttpFlavor, TestServer } from './host.ts';
import { startV1Server } from './server-v1.ts';
import { startV2Server } from './server-v2.ts';

/** Every server the tests run against: SDK v1 and v2, over HTTP/1.1 and h2c. */
export const SERVER_MATRIX: Array<
  [string, HttpFlavor, (flavor: HttpFlavor) => Promise<TestServer>]
> = [
  ['v1 server', 'h1', startV1Server],
  ['v1 server', 'h2c', startV1Server],
  ['v2 server', 'h1', startV2Server],
  ['v2 server', 'h2c', startV2Server],
];
