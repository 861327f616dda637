/**
 * `createClient({ baseUrl, getToken, onRefresh })`: openapi-fetch over the generated `paths`, with
 * the caller's bearer token on every request and one refresh-and-retry on a 401. Every call is
 * typed by the OpenAPI document: a wrong path, field or parameter is a compile error.
 */
import createFetchClient, { type Client } from "openapi-fetch";
import { paginate } from "./paginate.ts";
import type { paths } from "./schema";

export interface ClientOptions {
  /** The API's origin, e.g. `https://api.example.com` (no `/v1`: paths carry it). */
  baseUrl: string;
  /** The current access token, or null for anonymous calls. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once when a request with a token answers 401: get a new access token (typically with
   * `POST /v1/auth/refresh`) and return it, or null to give up. Concurrent 401s share one call, and a 401 for a token
   * older than the last refresh is retried with the newer one.
   */
  onRefresh?: () => Promise<string | null | undefined>;
  /** The fetch to use (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

export type TutorloopClient = Client<paths> & { paginate: ReturnType<typeof paginate> };

/** Refreshing while signing in or refreshing would loop: those answers stand as they are. */
const NO_REFRESH = /\/v1\/auth\//;

export function createClient(options: ClientOptions): TutorloopClient {
  const send = options.fetch ?? ((r: Request) => globalThis.fetch(r));
  let refreshing: Promise<string | null | undefined> | null = null;
  /** The token the last refresh gave: a 401 for an older token retries with it instead of refreshing again. */
  let latest: string | null | undefined = null;
  const refresh = () => {
    refreshing ??= (options.onRefresh?.() ?? Promise.resolve(null))
      .then((t) => {
        latest = t;
        return t;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  };
  const withToken = (request: Request, token: string | null | undefined) => {
    if (!token) return request;
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${token}`);
    return new Request(request, { headers });
  };
  const authedFetch = async (request: Request): Promise<Response> => {
    const token = await options.getToken?.();
    // a copy for the retry: the first send consumes the body
    const spare =
      options.onRefresh && token && !NO_REFRESH.test(new URL(request.url).pathname) ? request.clone() : null;
    const first = await send(withToken(request, token));
    if (first.status !== 401 || !spare) return first;
    // requests sent with the same old token fail together: only the first refreshes
    const now = await options.getToken?.();
    const fresh = now && now !== token ? now : latest && latest !== token ? latest : await refresh();
    if (!fresh) return first;
    return send(withToken(spare, fresh));
  };
  const client = createFetchClient<paths>({ baseUrl: options.baseUrl, fetch: authedFetch });
  return Object.assign(client, { paginate: paginate(client) });
}

/** Headers for a money route: `params: { header: idempotencyKey() }` (a fresh key unless given). */
export const idempotencyKey = (key: string = crypto.randomUUID()) => ({ "idempotency-key": key });
