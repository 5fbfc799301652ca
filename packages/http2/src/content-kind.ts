export type ContentKind = 'json' | 'sse' | 'other';

/**
 * Classifies a Content-Type header once, where the response starts: `json` for
 * application/json, `sse` for text/event-stream, `other` for anything else (or none). The
 * common, lower-case spelling is matched without allocating.
 */
export function contentKind(contentType: string | string[] | undefined): ContentKind {
  if (typeof contentType !== 'string') return 'other';
  if (contentType.startsWith('application/json')) return 'json';
  if (contentType.startsWith('text/event-stream')) return 'sse';
  const lower = contentType.trimStart().toLowerCase();
  if (lower.startsWith('application/json')) return 'json';
  if (lower.startsWith('text/event-stream')) return 'sse';
  return 'other';
}
