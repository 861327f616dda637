/**
 * The page's only door to the server: the public `/v1` API on the same origin, with the admin's
 * bearer token. Tokens: the access token lives in memory only (a script injected later cannot read
 * it from storage, and it dies with the tab); the refresh token is in `sessionStorage`, so a reload
 * keeps the admin signed in but closing the tab signs them out. Refresh tokens rotate: one refresh
 * at a time (a second concurrent refresh would reuse a rotated token, which revokes the family).
 * Every response's `x-d1-bookmark` is sent back on the next request, so the page reads its own
 * writes even from a read replica.
 */

const REFRESH_KEY = "tutorloop.admin.refreshToken";

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: { path: string; message: string }[];
  requestId: string | null;
}

/** An answer that is not 2xx, carrying the API's problem details. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface Me {
  id: string;
  email: string;
  name: string | null;
  context: string;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  user: Me;
}

let accessToken: string | null = null;
let bookmark: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(me: Me | null) => void>();
let current: Me | null = null;

function setSession(pair: TokenPair | null) {
  accessToken = pair?.accessToken ?? null;
  if (pair) sessionStorage.setItem(REFRESH_KEY, pair.refreshToken);
  else sessionStorage.removeItem(REFRESH_KEY);
  current = pair?.user ?? null;
  for (const l of listeners) l(current);
}

export function onSessionChange(l: (me: Me | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export const signedInUser = () => current;

async function problemOf(res: Response): Promise<Problem> {
  const requestId = res.headers.get("x-request-id");
  try {
    const body = (await res.json()) as Partial<Problem>;
    return {
      status: res.status,
      code: body.code ?? "internal",
      title: body.title ?? res.statusText,
      detail: body.detail,
      errors: body.errors,
      requestId,
    };
  } catch {
    return { status: res.status, code: "internal", title: `The server answered ${res.status}`, requestId };
  }
}

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { Accept: "application/json", ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (accessToken) h.Authorization = `Bearer ${accessToken}`;
  if (bookmark) h["X-D1-Bookmark"] = bookmark;
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError({
      status: 0,
      code: "network",
      title: "The server could not be reached",
      detail: "Check your connection and try again.",
      requestId: null,
    });
  }
  const b = res.headers.get("x-d1-bookmark");
  if (b) bookmark = b;
  return res;
}

/** One refresh at a time; false when there is no refresh token or it no longer works. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) return false;
    const res = await send("POST", "/v1/auth/refresh", { refreshToken: token });
    if (!res.ok) {
      setSession(null);
      return false;
    }
    const pair = (await res.json()) as TokenPair;
    // an address removed from ADMIN_EMAILS comes back as a student: the page is not for them
    setSession(pair.user.context === "admin" ? pair : null);
    return pair.user.context === "admin";
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export interface RequestOptions {
  /** Sent as `Idempotency-Key`: the same key for a retry of the same action. */
  idempotencyKey?: string;
}

/** Calls the API; an expired access token is refreshed once and the call repeated. */
export async function api<T>(method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = o.idempotencyKey ? { "Idempotency-Key": o.idempotencyKey } : {};
  let res = await send(method, path, body, headers);
  if (res.status === 401 && accessToken !== null && (await refresh())) res = await send(method, path, body, headers);
  if (!res.ok) throw new ApiError(await problemOf(res));
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

/** Builds `path?query` from the defined, non-empty values (added to any query `path` already has). */
export function withQuery(path: string, q: Record<string, string | number | undefined | null>): string {
  const [base = "", existing = ""] = path.split("?", 2);
  const p = new URLSearchParams(existing);
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `${base}?${s}` : base;
}

export async function requestCode(email: string): Promise<void> {
  await api("POST", "/v1/auth/otp/request", { email });
}

/** Verifies the code; only an admin account may use the page (others are signed out again). */
export async function verifyCode(email: string, code: string): Promise<void> {
  const pair = await api<TokenPair>("POST", "/v1/auth/otp/verify", { email, code });
  if (pair.user.context !== "admin") {
    await fetch("/v1/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${pair.accessToken}` },
      body: JSON.stringify({ refreshToken: pair.refreshToken }),
    }).catch(() => undefined);
    throw new ApiError({
      status: 403,
      code: "forbidden",
      title: "Not an admin account",
      detail: "This address is not an admin of this marketplace. Sign in with an address listed in ADMIN_EMAILS.",
      requestId: null,
    });
  }
  setSession(pair);
}

/** On load: a refresh token left in this tab signs the admin back in. */
export async function resume(): Promise<void> {
  if (sessionStorage.getItem(REFRESH_KEY)) await refresh();
  else setSession(null);
}

export async function signOut(): Promise<void> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (token) await api("POST", "/v1/auth/logout", { refreshToken: token }).catch(() => undefined);
  setSession(null);
}

/** A fresh key for one money action; the form keeps it until the action succeeded. */
export const newIdempotencyKey = () => crypto.randomUUID();
