import './node-guard.ts';

export * from './bounded-map.ts';
export * from './connection.ts';
export * from './deadline.ts';
export * from './era.ts';
export * from './errors.ts';
export * from './jsonrpc.ts';
export * from './message-queue.ts';
export * from './metrics.ts';
export { isSupportedNode, MIN_NODE_VERSION } from './node-version.ts';
export * from './options.ts';
export * from './raw-json.ts';
export * from './standard-headers.ts';
