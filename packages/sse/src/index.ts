import '@mcp/connection-core/node-guard';

export {
  DEFAULT_MAX_SSE_BUFFER_SIZE,
  type ParseSseStreamOptions,
  parseSseStream,
  type SseEvent,
  type SseSource,
} from './decode.ts';
export { formatSseComment, formatSseEvent } from './encode.ts';
export {
  createSseConnection,
  SseConnection,
  type SseConnectionOptions,
  SseConnectionOptionsSchema,
} from './legacy-connection.ts';
export { readMessages, type SseMessageItem, SseMessageReader } from './message-reader.ts';
export {
  type OpenSseStream,
  type ReconnectScheduler,
  ResumableSseStream,
  type ResumableSseStreamOptions,
  ResumableSseStreamOptionsSchema,
  realScheduler,
} from './resumable.ts';
export {
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  SseWriter,
  type SseWriterOptions,
  SseWriterOptionsSchema,
} from './writer.ts';
