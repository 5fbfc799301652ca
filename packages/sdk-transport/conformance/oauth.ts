// OAuth for the conformance client: one SDK v1 `OAuthClientProvider` and one `authorize()` step,
// plugged into both transports the same way (a bearer header on each request; on 401/403, run
// the SDK's `auth()` and send once more), so their pass counts compare the transports only.
import {
  auth,
  extractWWWAuthenticateParams,
  type OAuthClientProvider,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

export const REDIRECT_URL = 'http://localhost:3000/callback';
/** A client id metadata document URL (SEP-991), used where the server supports them. */
export const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

/**
 * The authorization-code flow without a browser: `redirectToAuthorization` requests the
 * authorization URL itself and keeps the code from the redirect it gets back.
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = REDIRECT_URL;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'sdk-transport-conformance',
    redirect_uris: [REDIRECT_URL],
  };
  readonly clientMetadataUrl: string | undefined;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  code: string | undefined;

  constructor(options: { clientMetadataUrl?: string; client?: OAuthClientInformationMixed } = {}) {
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#client = options.client;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }
  saveClientInformation(client: OAuthClientInformationMixed): void {
    this.#client = client;
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error('No code verifier saved');
    return this.#verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    const code = location === null ? null : new URL(location).searchParams.get('code');
    if (code === null) throw new Error(`No authorization code in the redirect from ${url}`);
    this.code = code;
  }
}

/** The `Authorization` header for the provider's current token, if it has one. */
export async function bearer(provider: OAuthClientProvider): Promise<Record<string, string>> {
  const tokens = await provider.tokens();
  return tokens === undefined ? {} : { authorization: `Bearer ${tokens.access_token}` };
}

/** Gets credentials for the challenge a 401/403 carried (its WWW-Authenticate header). */
export async function authorize(
  provider: OAuthClientProvider,
  serverUrl: string,
  wwwAuthenticate: string | undefined,
): Promise<void> {
  const challenge = new Response(null, {
    status: 401,
    headers: wwwAuthenticate === undefined ? {} : { 'www-authenticate': wwwAuthenticate },
  });
  const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(challenge);
  const options = { serverUrl, resourceMetadataUrl, scope };
  let result = await auth(provider, options);
  if (result === 'REDIRECT' && provider instanceof HeadlessOAuthProvider) {
    result = await auth(provider, { ...options, authorizationCode: provider.code });
  }
  if (result !== 'AUTHORIZED') throw new UnauthorizedError(`Authorization ended in ${result}`);
}
