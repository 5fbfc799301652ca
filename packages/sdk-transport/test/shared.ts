/** What both test servers offer, so the tests can check it the same way. */
export const STATIC_URI = 'memo://static/hello';
export const LANGUAGES = ['typescript', 'python', 'rust'];
