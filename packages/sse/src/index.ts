export {
  DEFAULT_MAX_SSE_BUFFER_SIZE,
  type ParseSseStreamOptions,
  parseSseStream,
  type SseEvent,
  type SseSource,
} from './decode.ts';
export { formatSseComment, formatSseEvent } from './encode.ts';
export { readMessages, type SseMessageItem, SseMessageReader } from './message-reader.ts';
export {
  DEFAULT_KEEP_ALIVE_INTERVAL_MS,
  SseWriter,
  type SseWriterOptions,
  SseWriterOptionsSchema,
} from './writer.ts';
