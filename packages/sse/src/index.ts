export {
  DEFAULT_MAX_SSE_BUFFER_SIZE,
  type ParseSseStreamOptions,
  parseSseStream,
  type SseEvent,
  type SseSource,
} from './decode.ts';
export { readMessages, type SseMessageItem, SseMessageReader } from './message-reader.ts';
