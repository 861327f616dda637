/**
 * A small HTTP client for the API and the provider emulator, shared by `npm run demo` and the e2e
 * suite: JSON calls, OTP login through the emulator's inbox, hosted checkout, polling, a test WAV.
 */

export interface Res<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: {
    id: string;
    email: string;
    name: string | null;
    context: string;
    studentProfileId: string | null;
    tutorProfileId: string | null;
  };
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  /**
   * Bytes sent as they are (uploads, signed or hand-made payloads). They always go straight to the
   * API, never through the client's validating proxy (which parses and re-encodes bodies).
   */
  raw?: RequestInit["body"];
  headers?: Record<string, string>;
  /**
   * This call breaks the OpenAPI document on purpose (no token, a missing or invalid field, an
   * unknown route or method): the validating proxy's request violations for it are expected.
   */
  expectViolation?: boolean;
  /**
   * Straight to the API, not through the validating proxy: for the routes the OpenAPI document does
   * not describe (the document itself, the reference page).
   */
  direct?: boolean;
}

/** One API call of a client with a validating proxy, and the proxy's verdict. */
export interface ProxiedCall {
  method: string;
  path: string;
  status: number;
  /** false: `raw` or `direct`, straight to the API. */
  proxied: boolean;
  expectViolation: boolean;
  /** The proxy's `sl-violations` header (Prism's violations, a JSON array), if any. */
  violations: string | null;
}

/**
 * A validating proxy in front of the API (the e2e suite's Prism): every call without `raw` or
 * `direct` goes through `url`; `onCall` hears of every call, and what the proxy said about it.
 */
export interface ClientProxy {
  url: string;
  onCall: (call: ProxiedCall) => void;
}

export class Client {
  readonly apiUrl: string;
  readonly emulatorUrl: string;
  /** Sent with every API call (a call's own headers win), e.g. the e2e files' `cf-connecting-ip`. */
  readonly headers: Record<string, string>;
  readonly proxy: ClientProxy | null;
  constructor(
    apiUrl: string,
    emulatorUrl: string,
    opts: { headers?: Record<string, string>; proxy?: ClientProxy | null } = {},
  ) {
    this.apiUrl = apiUrl;
    this.emulatorUrl = emulatorUrl;
    this.headers = opts.headers ?? {};
    this.proxy = opts.proxy ?? null;
  }

  async call<T = Record<string, unknown>>(path: string, o: CallOptions = {}): Promise<Res<T>> {
    const headers: Record<string, string> = { ...this.headers, ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: RequestInit["body"] = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const method = o.method ?? (body !== undefined ? "POST" : "GET");
    const proxied = this.proxy !== null && o.raw === undefined && !o.direct;
    const r = await fetch(`${proxied ? this.proxy?.url : this.apiUrl}${path}`, { method, headers, body });
    const text = await r.text();
    this.proxy?.onCall({
      method,
      path,
      status: r.status,
      proxied,
      expectViolation: o.expectViolation === true,
      violations: proxied ? r.headers.get("sl-violations") : null,
    });
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: r.status, headers: r.headers, body: parsed as T, text };
  }

  /**
   * A fetch for the SDK (`createClient({ baseUrl: c.apiUrl, fetch: c.fetchFor() })`): its API
   * requests with a JSON or no body go through the validating proxy too, as `call`'s do.
   */
  fetchFor(o: { expectViolation?: boolean } = {}): (request: Request) => Promise<Response> {
    return async (request) => {
      const type = request.headers.get("content-type") ?? "";
      const proxied =
        this.proxy !== null && request.url.startsWith(this.apiUrl) && (request.body === null || /json/.test(type));
      const body = proxied && request.body !== null ? await request.text() : undefined;
      const r = proxied
        ? await fetch(`${this.proxy?.url}${request.url.slice(this.apiUrl.length)}`, {
            method: request.method,
            headers: request.headers,
            body,
          })
        : await fetch(request);
      const url = new URL(request.url);
      this.proxy?.onCall({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        status: r.status,
        proxied,
        expectViolation: o.expectViolation === true,
        violations: proxied ? r.headers.get("sl-violations") : null,
      });
      return r;
    };
  }

  /** Like `call`, but throws unless the status is `expected`. */
  async ok<T = Record<string, unknown>>(path: string, o: CallOptions = {}, expected = 200): Promise<T> {
    const r = await this.call<T>(path, o);
    if (r.status !== expected) {
      throw new Error(
        `${o.method ?? (o.body !== undefined ? "POST" : "GET")} ${path}: expected ${expected}, got ${r.status} ${r.text.slice(0, 500)}`,
      );
    }
    return r.body;
  }

  async emulator<T = unknown>(path: string, init?: RequestInit): Promise<T> {
    const r = await fetch(`${this.emulatorUrl}${path}`, init);
    if (!r.ok) throw new Error(`emulator ${path}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  /** The newest mail to `email` (sent after `since`) whose text matches `re`. */
  async mail(email: string, re: RegExp, since = 0, timeoutMs = 15_000) {
    return poll(`a mail to ${email} matching ${re}`, timeoutMs, async () => {
      const inbox = await this.emulator<{ items: { subject: string; text: string | null; createdAt: number }[] }>(
        `/inbox.json?to=${encodeURIComponent(email)}`,
      );
      return inbox.items.find((m) => m.createdAt >= since && re.test(m.text ?? ""));
    });
  }

  /**
   * Requests a one-time code, reads it from the emulator's inbox: the first code mail that was not
   * there before the request (not "the newest since a moment": two logins of one address within a
   * second would read the first, spent code).
   */
  async otpCode(email: string): Promise<string> {
    type Mail = { id: string; text: string | null };
    const inboxOf = async () =>
      (await this.emulator<{ items: Mail[] }>(`/inbox.json?to=${encodeURIComponent(email)}`)).items;
    const seen = new Set((await inboxOf()).map((m) => m.id));
    await this.ok("/v1/auth/otp/request", { body: { email } }, 202);
    const mail = await poll(`a new code mail to ${email}`, 15_000, async () =>
      (await inboxOf()).find((m) => !seen.has(m.id) && /\b\d{6}\b/.test(m.text ?? "")),
    );
    return /\b(\d{6})\b/.exec(mail.text ?? "")?.[1] as string;
  }

  async login(email: string): Promise<Tokens> {
    const code = await this.otpCode(email);
    return this.ok<Tokens>("/v1/auth/otp/verify", { body: { email, code } });
  }

  /** Pays (or cancels) a Checkout Session on the emulator's hosted page, as the buttons do. */
  async checkoutAction(checkoutUrl: string, action: "pay" | "cancel") {
    const r = await fetch(`${checkoutUrl}/${action}`, { method: "POST", headers: { accept: "application/json" } });
    const body = (await r.json()) as {
      event?: { id: string; type: string };
      delivery?: { status?: number; body?: string; error?: string };
      error?: string;
    };
    return { status: r.status, ...body };
  }
}

export async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A short mono 16-bit PCM WAV (a 440 Hz tone). */
export function wav(seconds = 1, sampleRate = 16_000): Uint8Array<ArrayBuffer> {
  const samples = Math.round(seconds * sampleRate);
  const buf = new ArrayBuffer(44 + samples * 2);
  const v = new DataView(buf);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + samples * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, samples * 2, true);
  for (let i = 0; i < samples; i++) {
    v.setInt16(44 + i * 2, Math.round(Math.sin((2 * Math.PI * 440 * i) / sampleRate) * 8000), true);
  }
  return new Uint8Array(buf);
}

export const QUARTER = 15 * 60_000;

/** Every weekday, all day, in UTC: any 15-minute start is inside availability. */
export const ALL_WEEK = {
  timezone: "UTC",
  weekly: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "00:00", end: "24:00" })),
};

export const rand = () => Math.random().toString(36).slice(2, 8);
