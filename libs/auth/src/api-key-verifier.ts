import { Caller } from './caller';

/**
 * Extension point for `X-API-Key` authentication. Bind an implementation anywhere in the app
 * (`{ provide: ApiKeyVerifier, useClass: ApiKeysService }`); the AuthenticationGuard finds it at request time.
 * Without a binding, a request carrying only an API key is refused with 401.
 */
export abstract class ApiKeyVerifier {
  /** Resolves the key's Caller (`method: 'api_key'`), or null when the key is unknown, expired or revoked. */
  abstract verify(rawKey: string, ip?: string): Promise<Caller | null>;
}
