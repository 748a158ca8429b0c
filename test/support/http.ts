import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** What api() needs of a booted app (a TestApp is one). */
export interface InjectableApp {
  app: Pick<NestFastifyApplication, 'inject'>;
}

/** A body the test asserts rather than declares (what light-my-request's `json()` answers too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export interface ApiResponse<T = JsonBody> {
  status: number;
  /** The parsed JSON body ({} when the body is empty or not JSON). */
  body: T;
  /** The body as sent. */
  raw: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface ApiRequest {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is (with `contentType`). */
  body?: unknown;
  contentType?: string;
  /** The client address the app sees (per-IP rate limits). */
  remoteAddress?: string;
}

export type Api = <T = JsonBody>(method: string, url: string, req?: ApiRequest) => Promise<ApiResponse<T>>;

/**
 * The one HTTP helper of the e2e suites: a request to the booted app through Fastify's inject (no socket needed),
 * answering status, parsed body, raw body and headers. `api(t)('GET', '/connect/payments', { token })`.
 */
export function api(t: InjectableApp): Api {
  return async <T>(method: string, url: string, req: ApiRequest = {}): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = {
      ...(req.token ? { authorization: `Bearer ${req.token}` } : {}),
      ...req.headers,
    };
    const typed = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    if (req.body !== undefined && !typed) headers['content-type'] = req.contentType ?? 'application/json';
    const res = await t.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(req.remoteAddress ? { remoteAddress: req.remoteAddress } : {}),
      ...(req.body === undefined
        ? {}
        : { payload: typeof req.body === 'string' ? req.body : JSON.stringify(req.body) }),
    });
    let body = {} as T;
    try {
      body = res.json<T>();
    } catch {
      // not JSON (e.g. /metrics or an empty 204)
    }
    return { status: res.statusCode, body, raw: res.body, headers: res.headers };
  };
}
