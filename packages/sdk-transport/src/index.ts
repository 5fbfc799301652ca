export type { ConnectionTransportOptions, UnauthorizedHandler } from './options.ts';
export { poolTransport } from './pool.ts';
export { type ConnectionSource, ConnectionTransport } from './transport.ts';
export type {
  MessageHandler,
  SdkMessage,
  TransportSendOptions,
} from './types.ts';
