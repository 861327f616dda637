/**
 * Stripe's hosted checkout page as the emulator draws it, plus the dashboard's buttons for what
 * happens after payment. Plain HTML forms (no scripts), so it works with the keyboard alone:
 * - `GET /checkout` lists sessions; `GET /checkout/:id` shows one.
 * - open: Pay (`POST /checkout/:id/pay`; `?deliver=none` pays but loses the webhook) and Cancel.
 * - paid: Refund (all that is left) and Dispute; an open dispute: Dispute won / Dispute lost
 *   (`POST /checkout/:id/refund|dispute|dispute/won|dispute/lost`, the control routes' code).
 * With `Accept: application/json` the same routes answer JSON (tests use that).
 */
import { type Call, html, send } from "../http.ts";
import { esc, layout } from "../pages.ts";
import type { State } from "../state.ts";
import { type Refused, stripeErrorBody } from "./api.ts";
import { settleCheckout } from "./checkout.ts";
import { type Done, dashboardCloseDispute, dashboardDispute, dashboardRefund } from "./dashboard.ts";
import type { DeliveryResult } from "./events.ts";
import { chargeOfIntent, money, unrefunded } from "./payments.ts";
import { publicSession, type StoredCharge, type StoredSession } from "./store.ts";

const button = (action: string, label: string, secondary = false) =>
  `<form method="post" action="${esc(action)}"><button${secondary ? ' class="secondary"' : ""} type="submit">${esc(label)}</button></form>`;

function paymentCard(s: StoredSession, c: StoredCharge): string {
  const at = `/checkout/${s.id}`;
  const refunds = c.refunds
    .map(
      (r) => `<li><code>${esc(r.id)}</code> ${esc(money(r.amount, r.currency))} (${esc(r.reason ?? "no reason")})</li>`,
    )
    .join("");
  const d = c.dispute;
  const buttons = [
    unrefunded(c) > 0 && (!d || d.status === "won")
      ? button(`${at}/refund`, `Refund ${money(unrefunded(c), c.currency)}`)
      : "",
    !d && unrefunded(c) > 0 ? button(`${at}/dispute`, "Dispute", true) : "",
    d?.status === "needs_response" ? button(`${at}/dispute/won`, "Dispute won") : "",
    d?.status === "needs_response" ? button(`${at}/dispute/lost`, "Dispute lost", true) : "",
  ].join("\n");
  return `<div class="card"><div>PaymentIntent <code>${esc(c.paymentIntent)}</code> · charge <code>${esc(c.id)}</code></div>
<div>Refunded ${esc(money(c.amountRefunded, c.currency))} of ${esc(money(c.amount, c.currency))}</div>
${refunds ? `<ul>${refunds}</ul>` : ""}
${d ? `<div>Dispute <code>${esc(d.id)}</code> over ${esc(money(d.amount, d.currency))}: <span class="badge">${esc(d.status)}</span></div>` : ""}</div>
<p>What happens after payment, as Stripe's dashboard and the cardholder's bank would do it: each button sends its events (<code>refund.created</code> and <code>charge.refunded</code>; <code>charge.dispute.created</code>; <code>charge.dispute.closed</code>).</p>
${buttons || "<p>Nothing more can happen to this payment.</p>"}`;
}

export function checkoutPage(s: StoredSession, charge: StoredCharge | undefined): string {
  const at = `/checkout/${s.id}`;
  const body =
    s.status === "open"
      ? `<p>Test mode: no card needed. <em>Pay</em> completes the session and sends <code>checkout.session.completed</code>; <em>Cancel</em> expires it and sends <code>checkout.session.expired</code>. <em>Pay, lose the webhook</em> pays without delivering the event (for the API's recovery sweep).</p>
${button(`${at}/pay`, "Pay")}
${button(`${at}/cancel`, "Cancel", true)}
${button(`${at}/pay?deliver=none`, "Pay, lose the webhook", true)}`
      : charge
        ? paymentCard(s, charge)
        : `<p>This Checkout Session is no longer available (${esc(s.status)}).</p>`;
  return layout(
    `Checkout ${s.id}`,
    `<h1>${s.payment_status === "paid" ? "Paid" : "Pay"} ${esc(money(s.amount_total, s.currency))}</h1>
<div class="card"><div><strong>${esc(s.productName)}</strong></div>
<div class="muted">${esc(s.customer_email ?? "")} · session <code>${esc(s.id)}</code> · status <span class="badge">${esc(s.status)}</span> <span class="badge">${esc(s.payment_status)}</span></div></div>
${body}`,
  );
}

function checkoutListPage(sessions: StoredSession[]): string {
  const rows = sessions
    .map(
      (s) =>
        `<li><a href="/checkout/${esc(s.id)}">${esc(s.id)}</a> — ${esc(money(s.amount_total, s.currency))} · ${esc(s.customer_email ?? "")} · <span class="badge">${esc(s.status)}</span></li>`,
    )
    .join("");
  return layout("Checkout sessions", `<h1>Checkout sessions</h1><ul>${rows || "<li>None yet.</li>"}</ul>`);
}

function deliveryLine(type: string, delivery: DeliveryResult | null): string {
  if (!delivery) return `<p>Webhook <code>${esc(type)}</code> recorded but not sent (<code>deliver=none</code>).</p>`;
  if ("status" in delivery) {
    return `<p>Webhook <code>${esc(type)}</code> delivered: HTTP ${delivery.status}</p><pre>${esc(delivery.body)}</pre>`;
  }
  return `<p><strong>Webhook <code>${esc(type)}</code> NOT delivered:</strong> ${esc(delivery.error)}</p>`;
}

function resultPage(opts: {
  title: string;
  sent: { event: { type: string }; delivery: DeliveryResult | null }[];
  back: string | null;
  next?: string | null;
}): string {
  const sent = opts.sent.map((s) => deliveryLine(s.event.type, s.delivery)).join("\n");
  const next = opts.next
    ? `<p>Stripe would now send the browser to <a href="${esc(opts.next)}">${esc(opts.next)}</a>.</p>`
    : "";
  const back = opts.back ? `<p><a href="${esc(opts.back)}">Back to the payment</a></p>` : "";
  return layout(opts.title, `<h1>${esc(opts.title)}</h1>${sent}${next}${back}`);
}

const ACTIONS = /^\/checkout\/([^/]+)(?:\/(pay|cancel|refund|dispute|dispute\/won|dispute\/lost))?$/;

/** Pay / Cancel on an open session. */
async function settle(state: State, call: Call, id: string, action: "pay" | "cancel"): Promise<true> {
  const { res, wantsJson } = call;
  const deliver = call.url.searchParams.get("deliver") !== "none";
  const out = await settleCheckout(state, id, action, { deliver });
  if (out.kind !== "sent") {
    const status = out.kind === "missing" ? 404 : 409;
    const message =
      out.kind === "missing" ? `No such Checkout Session: ${id}` : `This Checkout Session is ${out.session.status}`;
    if (wantsJson) return send(res, status, { error: message });
    return html(res, status, resultPage({ title: message, sent: [], back: null }));
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
    resultPage({
      title: action === "pay" ? "Payment succeeded" : "Checkout cancelled",
      sent: [{ event: out.event, delivery: out.delivery }],
      back: action === "pay" ? `/checkout/${id}` : null,
      next,
    }),
  );
}

type AfterPayment = "refund" | "dispute" | "dispute/won" | "dispute/lost";
const TITLES: Record<AfterPayment, string> = {
  refund: "Refunded",
  dispute: "Dispute opened",
  "dispute/won": "Dispute won",
  "dispute/lost": "Dispute lost",
};

async function perform(state: State, s: StoredSession, action: AfterPayment): Promise<Done<unknown> | Refused> {
  const ref = { checkoutSessionId: s.id };
  if (action === "refund") return dashboardRefund(state, ref);
  if (action === "dispute") return dashboardDispute(state, ref);
  const dispute = s.payment_intent ? chargeOfIntent(state, s.payment_intent)?.dispute : undefined;
  if (!dispute) return { status: 400, message: `Checkout Session ${s.id} has no dispute` };
  return dashboardCloseDispute(state, dispute.id, action === "dispute/won" ? "won" : "lost");
}

/** Refund / Dispute / Dispute won / Dispute lost on a paid session. */
async function afterPayment(state: State, call: Call, s: StoredSession, action: AfterPayment): Promise<true> {
  const out = await perform(state, s, action);
  const back = `/checkout/${s.id}`;
  if ("status" in out) {
    if (call.wantsJson) return send(call.res, out.status, stripeErrorBody(out.message, out));
    return html(call.res, out.status, resultPage({ title: out.message, sent: [], back }));
  }
  if (call.wantsJson) return send(call.res, 200, out.body);
  return html(call.res, 200, resultPage({ title: TITLES[action], sent: out.sent, back }));
}

/** The hosted pages (not provider calls: not recorded). */
export async function hostedCheckout(state: State, call: Call): Promise<boolean> {
  const { path, method, res, wantsJson } = call;
  const sessions = state.stripe.checkoutSessions;
  if (method === "GET" && path === "/checkout") {
    return html(res, 200, checkoutListPage([...sessions.values()].reverse()));
  }
  const page = ACTIONS.exec(path);
  if (!page) return false;
  const id = decodeURIComponent(page[1] as string);
  const action = page[2] as "pay" | "cancel" | AfterPayment | undefined;
  const s = sessions.get(id);
  if (!action && method === "GET") {
    if (!s) return html(res, 404, resultPage({ title: `No such Checkout Session: ${id}`, sent: [], back: null }));
    const charge = s.payment_intent ? chargeOfIntent(state, s.payment_intent) : undefined;
    return wantsJson ? send(res, 200, publicSession(s)) : html(res, 200, checkoutPage(s, charge));
  }
  if (!action || method !== "POST") return false;
  if (action === "pay" || action === "cancel") return settle(state, call, id, action);
  if (!s) {
    const message = `No such Checkout Session: ${id}`;
    if (wantsJson) return send(res, 404, stripeErrorBody(message, { code: "resource_missing" }));
    return html(res, 404, resultPage({ title: message, sent: [], back: null }));
  }
  return afterPayment(state, call, s, action);
}
