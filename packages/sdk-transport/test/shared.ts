/** What both test servers offer, so the tests can check it the same way. */
export const STATIC_URI = 'memo://static/hello';
export const MEMO_TEMPLATE = 'memo://{name}';
export const LANGUAGES = ['typescript', 'python', 'rust'];
const MEMO_NAMES = ['alpha', 'beta'];

const startingWith = (values: string[]) => (value: string) =>
  values.filter((v) => v.startsWith(value));

/** Completions of the `review` prompt's `language` argument. */
export const completeLanguage = startingWith(LANGUAGES);
/** Completions of the memo template's `name` variable. */
export const completeMemoName = startingWith(MEMO_NAMES);

export function readMemo(uri: URL, name: unknown) {
  return { contents: [{ uri: uri.href, text: `memo ${String(name)}` }] };
}

export function reviewPrompt(language: string) {
  const text = `Review this ${language}`;
  return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }] };
}

/** The `ask` tool's answer, from the client's elicitation result. */
export function askAnswer(answer: { action: string; content?: Record<string, unknown> }) {
  const text = `${answer.action}: ${String(answer.content?.name)}`;
  return { content: [{ type: 'text' as const, text }] };
}
