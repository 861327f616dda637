/**
 * Webhook receivers: stand-ins for the endpoints admins register for the platform's outgoing
 * webhooks (Standard Webhooks). `POST /hooks/:name` is a provider route (recorded, subject to
 * `/__control/fail`): it keeps the delivery and checks it with the SDK's `verifyWebhook` and the
 * receiver's secret, answering 200 `{ received: true }`, or 400 `{ error }` when it does not verify
 * (the platform then retries), or nothing at all in mode `hang` (for the platform's timeout).
 * Control routes `/__control/hooks/:name` set the secret and mode and read the deliveries; the pages
 * `/hooks` and `/hooks/:name` show them.
 */
import type { Socket } from "node:net";
import { Webhook } from "standardwebhooks";
import { verifyWebhook } from "../../sdk/src/webhooks.ts";
import { type Call, html, jsonOf, send } from "./http.ts";
import { esc, layout } from "./pages.ts";
import type { HookDelivery, HookReceiver, State } from "./state.ts";

export const HOOK_NAME = /^[a-z0-9-]{1,40}$/;
/** deliveries kept per receiver (the newest) */
export const HOOKS_KEPT = 500;
/** a hanging request is dropped after this long even if the client waits on */
export const HANG_MAX_MS = 60_000;
const MODES = ["ok", "hang"] as const;
type Mode = (typeof MODES)[number];

const blank = (name: string): HookReceiver => ({ name, secret: null, mode: "ok", deliveries: [], hanging: new Set() });

/** The receiver, created (no secret, mode `ok`) on its first delivery or setting. */
function receiverOf(state: State, name: string): HookReceiver {
  let r = state.hooks.get(name);
  if (!r) {
    r = blank(name);
    state.hooks.set(name, r);
  }
  return r;
}

/** What is wrong with a secret given to a receiver, or null (null itself: no secret). */
function secretProblem(secret: unknown): string | null {
  if (secret === null) return null;
  if (typeof secret !== "string") return "secret must be a string or null";
  if (!secret.startsWith("whsec_")) return 'secret must look like "whsec_<base64>"';
  try {
    new Webhook(secret);
  } catch (err) {
    return `secret: ${(err as Error).message}`;
  }
  return null;
}

/** The receiver's settings and counts, as the control routes and `/hooks` answer them. */
function receiverView(r: HookReceiver) {
  const answered = r.deliveries.filter((d) => d.status !== null);
  return {
    name: r.name,
    secret: r.secret,
    mode: r.mode,
    delivered: r.deliveries.length,
    verified: r.deliveries.filter((d) => d.verified === true).length,
    refused: answered.filter((d) => (d.status as number) < 200 || (d.status as number) >= 300).length,
    hanging: r.hanging.size,
  };
}

function verify(state: State, call: Call, secret: string | null): Pick<HookDelivery, "verified" | "verifyError"> {
  if (secret === null) return { verified: null };
  try {
    verifyWebhook(secret, call.headers, call.body);
    return { verified: true };
  } catch (err) {
    const verifyError =
      err instanceof SyntaxError
        ? `the signature matches but the body is not JSON (${err.message})`
        : (err as Error).message || String(err);
    state.log.loud("hooks", call, `the delivery does not verify: ${verifyError}`);
    return { verified: false, verifyError };
  }
}

/** What a receiver would notice about a delivery beyond its signature (reported, never refused). */
function shapeProblems(call: Call): string[] {
  const problems: string[] = [];
  if (!(call.headers["content-type"] ?? "").startsWith("application/json")) {
    problems.push(`content-type is ${JSON.stringify(call.headers["content-type"] ?? "")}, not application/json`);
  }
  const parsed = jsonOf(call.body) as { type?: unknown; timestamp?: unknown; data?: unknown } | undefined;
  if (parsed === undefined || parsed === null || typeof parsed !== "object") {
    problems.push("the body is not a JSON object");
    return problems;
  }
  if (typeof parsed.type !== "string" || !parsed.type) problems.push("the body has no string `type`");
  if (typeof parsed.timestamp !== "string" || Number.isNaN(Date.parse(parsed.timestamp))) {
    problems.push("the body's `timestamp` is not an ISO 8601 date");
  }
  if (!("data" in parsed)) problems.push("the body has no `data`");
  return problems;
}

/** Keeps the delivery (the newest HOOKS_KEPT per receiver) with the receiver's verdict. */
function keep(state: State, r: HookReceiver, call: Call, status: number | null): HookDelivery {
  const parsed = jsonOf(call.body) as { type?: unknown } | undefined;
  const delivery: HookDelivery = {
    receiver: r.name,
    webhookId: call.headers["webhook-id"] ?? null,
    timestamp: call.headers["webhook-timestamp"] ?? null,
    signature: call.headers["webhook-signature"] ?? null,
    type: parsed && typeof parsed === "object" && typeof parsed.type === "string" ? parsed.type : null,
    body: call.body,
    receivedAt: Date.now(),
    status,
    ...verify(state, call, r.secret),
  };
  r.deliveries.push(delivery);
  if (r.deliveries.length > HOOKS_KEPT) r.deliveries.splice(0, r.deliveries.length - HOOKS_KEPT);
  return delivery;
}

/** `/hooks/<name>` → the receiver's name; undefined for other paths, null for a name that is not allowed. */
function nameIn(path: string, suffix = ""): string | null | undefined {
  if (!path.startsWith("/hooks/") || !path.endsWith(suffix)) return undefined;
  const seg = path.slice("/hooks/".length, path.length - suffix.length);
  if (!seg || seg.includes("/")) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(seg);
  } catch {
    return null;
  }
  return HOOK_NAME.test(name) ? name : null;
}

/** Leaves the request open: the client gives up (its timeout), the emulator closes, or HANG_MAX_MS pass. */
function hang(r: HookReceiver, call: Call) {
  const socket: Socket = call.req.socket;
  r.hanging.add(socket);
  const timer = setTimeout(() => socket.destroy(), HANG_MAX_MS);
  timer.unref();
  call.res.once("close", () => {
    clearTimeout(timer);
    r.hanging.delete(socket);
  });
}

function destroyHanging(r: HookReceiver) {
  for (const socket of r.hanging) socket.destroy();
  r.hanging.clear();
}

/** Drops every hanging receiver connection (the emulator is closing). */
export function releaseHooks(state: State) {
  for (const r of state.hooks.values()) destroyHanging(r);
}

/** `POST /hooks/:name`: the receiver (a provider route). */
export function hooks(state: State, call: Call): boolean {
  if (call.method !== "POST") return false;
  const name = nameIn(call.path);
  if (name === undefined) return false;
  if (name === null) {
    state.log.loud("hooks", call, "receiver names are [a-z0-9-]{1,40}");
    return send(call.res, 404, { error: "no such receiver: names are [a-z0-9-]{1,40}" });
  }
  const r = receiverOf(state, name);
  for (const problem of shapeProblems(call)) state.log.loud("hooks", call, problem);
  const delivery = keep(state, r, call, null);
  state.log.info(`hooks/${name}: ${delivery.type ?? "?"} ${delivery.webhookId ?? "(no webhook-id)"}`);
  if (r.mode === "hang") {
    hang(r, call);
    return true;
  }
  if (delivery.verified === false) {
    delivery.status = 400;
    return send(call.res, 400, { error: `webhook signature does not verify: ${delivery.verifyError}` });
  }
  delivery.status = 200;
  return send(call.res, 200, { received: true });
}

/** After `/__control/fail` answered a call: a delivery to a receiver is still kept, with that status. */
export function keepInjected(state: State, call: Call) {
  if (call.method !== "POST") return;
  const name = nameIn(call.path);
  if (!name) return;
  keep(state, receiverOf(state, name), call, call.res.statusCode);
}

function deliveriesOf(state: State, name: string, url: URL): HookDelivery[] {
  const type = url.searchParams.get("type");
  const webhookId = url.searchParams.get("webhookId");
  return (state.hooks.get(name)?.deliveries ?? [])
    .filter((d) => (!type || d.type === type) && (!webhookId || d.webhookId === webhookId))
    .reverse();
}

/** Applies `{ secret?, mode? }`; the problem, if any (nothing is changed then). */
function configure(state: State, name: string, patch: { secret?: unknown; mode?: unknown }): string | null {
  if (patch.secret !== undefined) {
    const problem = secretProblem(patch.secret);
    if (problem) return problem;
  }
  if (patch.mode !== undefined && !MODES.includes(patch.mode as Mode)) return 'mode must be "ok" or "hang"';
  const r = receiverOf(state, name);
  if (patch.secret !== undefined) r.secret = patch.secret as string | null;
  if (patch.mode !== undefined) r.mode = patch.mode as Mode;
  return null;
}

/**
 * `/__control/hooks…` (JSON; not recorded): `GET /__control/hooks`, `POST|GET|DELETE /__control/hooks/:name`,
 * `GET /__control/hooks/:name/deliveries?type=&webhookId=`.
 */
export function hooksControl(state: State, call: Call): boolean {
  const { method, path, res } = call;
  if (path === "/__control/hooks" && method === "GET") {
    return send(res, 200, [...state.hooks.values()].map(receiverView));
  }
  const m = /^\/__control\/hooks\/([^/]+)(\/deliveries)?$/.exec(path);
  if (!m) return false;
  const name = m[1] as string;
  if (!HOOK_NAME.test(name)) return send(res, 404, { error: "no such receiver: names are [a-z0-9-]{1,40}" });
  if (m[2]) {
    if (method !== "GET") return send(res, 405, { error: "GET only" });
    return send(res, 200, deliveriesOf(state, name, call.url));
  }
  if (method === "GET") {
    return send(res, 200, receiverView(state.hooks.get(name) ?? blank(name)));
  }
  if (method === "DELETE") {
    const r = state.hooks.get(name);
    if (r) destroyHanging(r);
    state.hooks.delete(name);
    return send(res, 200, { ok: true });
  }
  if (method === "POST") {
    const patch = jsonOf(call.body || "{}");
    if (!patch || typeof patch !== "object" || Array.isArray(patch)) {
      return send(res, 400, { error: "the body must be a JSON object { secret?, mode? }" });
    }
    const problem = configure(state, name, patch as { secret?: unknown; mode?: unknown });
    if (problem) return send(res, 400, { error: problem });
    return send(res, 200, receiverView(receiverOf(state, name)));
  }
  return send(res, 405, { error: "GET, POST or DELETE" });
}

const time = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
};

const pretty = (body: string) => {
  const parsed = jsonOf(body);
  const text = parsed === undefined ? body : JSON.stringify(parsed, null, 2);
  return text.length > 20_000 ? `${text.slice(0, 20_000)}\n… (${text.length - 20_000} more characters)` : text;
};

function badge(d: HookDelivery): string {
  if (d.verified === true) return `<span class="badge ok">✓ verified</span>`;
  if (d.verified === false) return `<span class="badge bad">✗ ${esc(d.verifyError ?? "does not verify")}</span>`;
  return `<span class="badge">no secret</span>`;
}

export function hooksIndexPage(receivers: HookReceiver[], base: string): string {
  const rows = receivers
    .map((r) => {
      const v = receiverView(r);
      return `<tr><th scope="row"><a href="/hooks/${esc(r.name)}">${esc(r.name)}</a></th><td>${r.secret ? "set" : "none"}</td><td>${esc(r.mode)}</td><td>${v.delivered}</td><td>${v.verified}</td><td>${v.refused}</td></tr>`;
    })
    .join("\n");
  return layout(
    "Webhook receivers",
    `<h1>Webhook receivers</h1>
<p>Register <code>${esc(base)}/hooks/&lt;name&gt;</code> (name: lower-case letters, digits, <code>-</code>, up to 40) as a webhook endpoint;
each delivery is kept (the newest ${HOOKS_KEPT} per receiver) and checked with the SDK's <code>verifyWebhook</code> and the receiver's secret.
A receiver appears once it gets a delivery or a setting: open <code>/hooks/&lt;name&gt;</code> to set its secret.</p>
${
  rows
    ? `<table><caption>Receivers (counts over the deliveries kept; refused: answered other than 2xx)</caption>
<thead><tr><th scope="col">Receiver</th><th scope="col">Secret</th><th scope="col">Mode</th><th scope="col">Delivered</th><th scope="col">Verified</th><th scope="col">Refused</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : "<p>No receiver yet.</p>"
}`,
  );
}

export function hookPage(r: HookReceiver, base: string, deliveries: HookDelivery[], error?: string): string {
  const v = receiverView(r);
  const rows = deliveries
    .map(
      (
        d,
      ) => `<tr><td>${time(d.receivedAt)}</td><td>${d.type ? `<code>${esc(d.type)}</code>` : '<span class="muted">none</span>'}</td>
<td><code>${esc(d.webhookId ?? "none")}</code></td><td>${badge(d)}</td><td>${d.status ?? '<span class="muted">no answer (hang)</span>'}</td>
<td><details><summary>Body (${d.body.length} characters)</summary><pre>${esc(pretty(d.body))}</pre></details></td></tr>`,
    )
    .join("\n");
  const checked = (mode: Mode) => (r.mode === mode ? " checked" : "");
  return layout(
    `Webhook receiver ${r.name}`,
    `<h1>Webhook receiver <code>${esc(r.name)}</code></h1>
<p>Endpoint URL: <code>${esc(base)}/hooks/${esc(r.name)}</code> · ${v.delivered} delivered, ${v.verified} verified, ${v.refused} refused · <a href="/hooks">all receivers</a></p>
${error ? `<p role="alert" class="badge bad">${esc(error)}</p>` : ""}
<form class="settings card" method="post" action="/hooks/${esc(r.name)}/settings">
<div><label for="secret">Signing secret (<code>whsec_…</code>; empty: no secret, deliveries are not verified)</label>
<input id="secret" name="secret" type="text" autocomplete="off" spellcheck="false" value="${esc(r.secret ?? "")}"></div>
<fieldset><legend>Mode</legend>
<label><input type="radio" name="mode" value="ok"${checked("ok")}> answer (200, or 400 when the signature does not verify)</label>
<label><input type="radio" name="mode" value="hang"${checked("hang")}> hang (never answer; dropped after ${HANG_MAX_MS / 1000} s)</label>
</fieldset>
<button type="submit">Save</button></form>
<form method="post" action="/hooks/${esc(r.name)}/clear"><button type="submit" class="secondary">Clear deliveries</button></form>
${
  rows
    ? `<table><caption>Deliveries, newest first</caption>
<thead><tr><th scope="col">Received</th><th scope="col">Type</th><th scope="col">webhook-id</th><th scope="col">Signature</th><th scope="col">Answered</th><th scope="col">Body</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : "<p>No delivery yet.</p>"
}`,
  );
}

/** The pages `/hooks`, `/hooks/:name` and their forms (not provider calls: not recorded). */
export function hooksPages(state: State, call: Call): boolean {
  const { method, path, res } = call;
  if (path === "/hooks" && method === "GET") {
    const all = [...state.hooks.values()];
    if (call.wantsJson) return send(res, 200, all.map(receiverView));
    return html(res, 200, hooksIndexPage(all, state.base));
  }
  if (method === "GET") {
    const name = nameIn(path);
    if (name === undefined) return false;
    if (name === null)
      return html(
        res,
        404,
        layout("No such receiver", "<h1>No such receiver</h1><p>Receiver names are <code>[a-z0-9-]{1,40}</code>.</p>"),
      );
    const list = deliveriesOf(state, name, call.url);
    if (call.wantsJson) return send(res, 200, list);
    const r = state.hooks.get(name) ?? blank(name);
    return html(res, 200, hookPage(r, state.base, list));
  }
  if (method !== "POST") return false;
  const settings = nameIn(path, "/settings");
  const clear = settings === undefined ? nameIn(path, "/clear") : undefined;
  const name = settings ?? clear;
  if (name === undefined) return false;
  if (name === null) return html(res, 404, layout("No such receiver", "<h1>No such receiver</h1>"));
  if (settings) {
    const form = new URLSearchParams(call.body);
    const secret = (form.get("secret") ?? "").trim();
    const problem = configure(state, name, { secret: secret || null, mode: form.get("mode") ?? undefined });
    if (problem) {
      const r = state.hooks.get(name) ?? blank(name);
      return html(res, 400, hookPage(r, state.base, deliveriesOf(state, name, call.url), problem));
    }
  } else {
    const r = state.hooks.get(name);
    if (r) r.deliveries = [];
  }
  res.writeHead(303, { location: `/hooks/${name}` });
  res.end();
  return true;
}
