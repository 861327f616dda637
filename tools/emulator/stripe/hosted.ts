/**
 * Stripe's hosted checkout page as the emulator draws it: `GET /checkout` lists sessions,
 * `GET /checkout/:id` shows one with Pay / Cancel buttons (plain forms), which post to
 * `/checkout/:id/pay|cancel`. With `Accept: application/json` the same routes answer JSON (tests use that).
 */
import { type Call, html, send } from "../http.ts";
import { esc, layout } from "../pages.ts";
import type { State } from "../state.ts";
import { settleCheckout } from "./checkout.ts";
import { publicSession, type StoredSession } from "./store.ts";

export interface CheckoutView {
  id: string;
  status: string;
  payment_status: string;
  amount_total: number;
  currency: string;
  customer_email: string | null;
  productName: string;
  success_url: string | null;
  cancel_url: string | null;
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

export function checkoutPage(s: CheckoutView): string {
  const open = s.status === "open";
  return layout(
    `Checkout ${s.id}`,
    `<h1>Pay ${esc(money(s.amount_total, s.currency))}</h1>
<div class="card"><div><strong>${esc(s.productName)}</strong></div>
<div class="muted">${esc(s.customer_email ?? "")} · session <code>${esc(s.id)}</code> · status <span class="badge">${esc(s.status)}</span> <span class="badge">${esc(s.payment_status)}</span></div></div>
${
  open
    ? `<p>Test mode: no card needed. <em>Pay</em> completes the session and sends <code>checkout.session.completed</code>; <em>Cancel</em> expires it and sends <code>checkout.session.expired</code>.</p>
<form method="post" action="/checkout/${esc(s.id)}/pay"><button type="submit">Pay</button></form>
<form method="post" action="/checkout/${esc(s.id)}/cancel"><button class="secondary" type="submit">Cancel</button></form>`
    : `<p>This Checkout Session is no longer available (${esc(s.status)}).</p>`
}`,
  );
}

export function checkoutListPage(sessions: CheckoutView[]): string {
  const rows = sessions
    .map(
      (s) =>
        `<li><a href="/checkout/${esc(s.id)}">${esc(s.id)}</a> — ${esc(money(s.amount_total, s.currency))} · ${esc(s.customer_email ?? "")} · <span class="badge">${esc(s.status)}</span></li>`,
    )
    .join("");
  return layout("Checkout sessions", `<h1>Checkout sessions</h1><ul>${rows || "<li>None yet.</li>"}</ul>`);
}

export function checkoutResultPage(opts: {
  title: string;
  eventType: string;
  delivery: { status: number; body: string } | { error: string };
  next: string | null;
}): string {
  const delivered =
    "status" in opts.delivery
      ? `<p>Webhook <code>${esc(opts.eventType)}</code> delivered: HTTP ${opts.delivery.status}</p><pre>${esc(opts.delivery.body)}</pre>`
      : `<p><strong>Webhook <code>${esc(opts.eventType)}</code> NOT delivered:</strong> ${esc(opts.delivery.error)}</p>`;
  return layout(
    opts.title,
    `<h1>${esc(opts.title)}</h1>${delivered}${opts.next ? `<p>Stripe would now send the browser to <a href="${esc(opts.next)}">${esc(opts.next)}</a>.</p>` : ""}`,
  );
}

const viewOf = (s: StoredSession): CheckoutView => ({
  id: s.id,
  status: s.status,
  payment_status: s.payment_status,
  amount_total: s.amount_total,
  currency: s.currency,
  customer_email: s.customer_email,
  productName: s.productName,
  success_url: s.success_url,
  cancel_url: s.cancel_url,
});

/** The hosted pages (not provider calls: not recorded). */
export async function hostedCheckout(state: State, call: Call): Promise<boolean> {
  const { path, method, res, wantsJson } = call;
  const sessions = state.stripe.checkoutSessions;
  if (method === "GET" && path === "/checkout") {
    return html(res, 200, checkoutListPage([...sessions.values()].reverse().map(viewOf)));
  }
  const page = /^\/checkout\/([^/]+)(?:\/(pay|cancel))?$/.exec(path);
  if (!page) return false;
  const id = decodeURIComponent(page[1] as string);
  const action = page[2] as "pay" | "cancel" | undefined;
  const s = sessions.get(id);
  if (!action && method === "GET") {
    if (!s) {
      return html(
        res,
        404,
        checkoutResultPage({ title: "No such Checkout Session", eventType: "-", delivery: { error: id }, next: null }),
      );
    }
    return wantsJson ? send(res, 200, publicSession(s)) : html(res, 200, checkoutPage(viewOf(s)));
  }
  if (!action || method !== "POST") return false;
  const out = await settleCheckout(state, id, action);
  if (out.kind !== "sent") {
    const status = out.kind === "missing" ? 404 : 409;
    const message =
      out.kind === "missing" ? `No such Checkout Session: ${id}` : `This Checkout Session is ${out.session.status}`;
    if (wantsJson) return send(res, status, { error: message });
    return html(
      res,
      status,
      checkoutResultPage({ title: message, eventType: "-", delivery: { error: "nothing sent" }, next: null }),
    );
  }
  if (wantsJson)
    return send(res, 200, { session: publicSession(out.session), event: out.event, delivery: out.delivery });
  const next =
    action === "pay"
      ? (out.session.success_url?.replace("{CHECKOUT_SESSION_ID}", id) ?? null)
      : (out.session.cancel_url ?? null);
  return html(
    res,
    200,
    checkoutResultPage({
      title: action === "pay" ? "Payment succeeded" : "Checkout cancelled",
      eventType: out.event.type,
      delivery: out.delivery,
      next,
    }),
  );
}
