/**
 * Resend: `POST /emails` (validated like Resend, Idempotency-Key honoured) and `GET /emails/:id`.
 * Every mail lands in the emulator's inbox, `GET /inbox` (HTML, `?to=` filter) and `GET /inbox.json`.
 */
import { createHash, randomUUID } from "node:crypto";
import { type Call, hasAuth, html, jsonOf, send } from "./http.ts";
import { esc, layout } from "./pages.ts";
import { EMAIL_RE, type State } from "./state.ts";

export interface Mail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  createdAt: number;
}

export function inboxPage(mails: Mail[], to: string | null): string {
  const items = mails
    .map(
      (m) => `<div class="card"><div><strong>${esc(m.subject)}</strong></div>
<div class="muted">to ${esc(m.to.join(", "))} · from ${esc(m.from)} · ${esc(new Date(m.createdAt).toISOString())}</div>
<pre>${esc(m.text ?? m.html?.replace(/<[^>]+>/g, "") ?? "")}</pre></div>`,
    )
    .join("\n");
  return layout(
    "Inbox",
    `<h1>Inbox${to ? ` of ${esc(to)}` : ""}</h1><p class="muted">${mails.length} message(s), newest first. Filter: <code>/inbox?to=ana@example.com</code></p>${items || "<p>No mail yet.</p>"}`,
  );
}

/** The inbox pages (not provider calls: not recorded). */
export function inbox(state: State, { method, path, url, res }: Call): boolean {
  if (method !== "GET" || (path !== "/inbox" && path !== "/inbox.json")) return false;
  const to = url.searchParams.get("to")?.toLowerCase() ?? null;
  const list = state.mails.filter((m) => !to || m.to.some((t) => t.toLowerCase() === to)).reverse();
  if (path === "/inbox.json") return send(res, 200, { items: list });
  return html(res, 200, inboxPage(list, to));
}

function sendEmail(state: State, call: Call): true {
  const { res, headers, body } = call;
  const resendError = (status: number, name: string, message: string) => {
    state.log.loud("resend", call, message);
    return send(res, status, { name, message, statusCode: status });
  };
  if (!hasAuth(headers, "Bearer")) {
    return resendError(
      401,
      "missing_api_key",
      "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
    );
  }
  if (!headers.authorization?.startsWith("Bearer re_")) {
    state.log.warn("resend: the API key does not look like a Resend key (re_…)");
  }
  if (!headers["content-type"]?.includes("application/json")) {
    return resendError(422, "validation_error", "Content-Type must be application/json");
  }
  const parsed = jsonOf(body) as
    | { from?: unknown; to?: unknown; subject?: unknown; text?: unknown; html?: unknown }
    | undefined;
  if (parsed === undefined) return resendError(422, "validation_error", "The request body is not valid JSON");
  const to = typeof parsed.to === "string" ? [parsed.to] : parsed.to;
  if (!parsed.from) return resendError(422, "missing_required_field", "The `from` field is missing.");
  const fromAddr = /<([^>]+)>\s*$/.exec(String(parsed.from))?.[1] ?? String(parsed.from);
  if (!EMAIL_RE.test(fromAddr)) {
    return resendError(
      422,
      "validation_error",
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  }
  if (!Array.isArray(to) || to.length === 0) {
    return resendError(422, "missing_required_field", "The `to` field is missing.");
  }
  if (to.length > 50) return resendError(422, "validation_error", "The `to` field can have at most 50 addresses.");
  const badTo = to.find((t) => typeof t !== "string" || !EMAIL_RE.test(t));
  if (badTo !== undefined) {
    return resendError(422, "validation_error", `Invalid \`to\` field: ${JSON.stringify(badTo)}`);
  }
  if (typeof parsed.subject !== "string" || !parsed.subject) {
    return resendError(422, "missing_required_field", "The `subject` field is missing.");
  }
  if (typeof parsed.text !== "string" && typeof parsed.html !== "string") {
    return resendError(422, "validation_error", "Either `html` or `text` must be provided.");
  }
  const key = headers["idempotency-key"];
  const fingerprint = createHash("sha256").update(body).digest("hex");
  if (key) {
    if (key.length > 256) return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    const prior = state.idempotency.get(`resend:${key}`);
    if (prior) {
      if (prior.fingerprint !== fingerprint) {
        return resendError(
          409,
          "invalid_idempotent_request",
          "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
        );
      }
      return send(res, prior.status, prior.body);
    }
  }
  const mail: Mail = {
    id: randomUUID(),
    from: String(parsed.from),
    to: to as string[],
    subject: parsed.subject,
    text: typeof parsed.text === "string" ? parsed.text : null,
    html: typeof parsed.html === "string" ? parsed.html : null,
    createdAt: Date.now(),
  };
  state.mails.push(mail);
  state.log.info(`resend mail to ${mail.to.join(", ")}: ${mail.subject}`);
  const out = { id: mail.id };
  if (key) state.idempotency.set(`resend:${key}`, { fingerprint, status: 200, body: out });
  return send(res, 200, out);
}

/** `POST /emails`, `GET /emails/:id`. */
export function resend(state: State, call: Call): boolean {
  const { path, method, res } = call;
  if (path === "/emails" && method === "POST") return sendEmail(state, call);
  const getMail = /^\/emails\/([^/]+)$/.exec(path);
  if (!getMail || method !== "GET") return false;
  const m = state.mails.find((x) => x.id === getMail[1]);
  if (!m) return send(res, 404, { name: "not_found", message: "Email not found", statusCode: 404 });
  return send(res, 200, {
    object: "email",
    id: m.id,
    to: m.to,
    from: m.from,
    created_at: new Date(m.createdAt).toISOString(),
    subject: m.subject,
    html: m.html,
    text: m.text,
    last_event: "delivered",
  });
}
