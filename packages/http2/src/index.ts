import '@mcp/connection-core/node-guard';

export { http2Channels, type ServerStreamEndMessage } from './channels.ts';
export { createHttp2Connection, Http2Connection } from './connection.ts';
export { DEFAULT_MAX_STREAMS_PER_CONNECTION, type HttpProtocol } from './dispatcher.ts';
export {
  connectWithFallback,
  type FallbackOptions,
  type FallbackResult,
  LEGACY_FALLBACK_STATUSES,
} from './fallback.ts';
export {
  DEFAULT_CONNECTION_WINDOW_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  type FlowControlOptions,
  h2FlowControl,
  MAX_WINDOW_SIZE,
} from './flow-control.ts';
export { type Http2ClientFactoryOptions, http2ClientFactory } from './http2-clients.ts';
export { MAX_INPUT_ROUNDS } from './input-rounds.ts';
export {
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_MAX_TOTAL_TIMEOUT_MS,
  DEFAULT_RECEIVE_QUEUE_CAPACITY,
  DEFAULT_RECONNECTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type HeadersContext,
  type HeadersProvider,
  type Http2ConnectionOptions,
  Http2ConnectionOptionsSchema,
  type ReconnectionOptions,
  type TlsOptions,
} from './options.ts';
export { type ServerStreamAnswer, type ServerStreamEnd, serverEventIdOf } from './server-stream.ts';
export type { ServerStreamOpened } from './server-stream-slot.ts';
export type { AdoptedSession } from './session.ts';
export { guardHttp2Streams } from './stream-guard.ts';
export {
  Subscription,
  type SubscriptionEnd,
  type SubscriptionOptions,
} from './subscription.ts';
