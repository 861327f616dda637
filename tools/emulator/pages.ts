/** The emulator's HTML pages: index, hosted checkout, inbox, video-room landing. */

export const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

export function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1f2330}
h1{font-size:1.4rem}.muted{color:#6b7080}.card{border:1px solid #d8dbe4;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #635bff;background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#635bff}form{display:inline}pre{white-space:pre-wrap;background:#f5f6fa;padding:.75rem;border-radius:6px}
code{background:#f5f6fa;padding:0 .25rem;border-radius:4px}.badge{font-size:.8rem;border-radius:4px;padding:.1rem .4rem;background:#eef}
</style></head><body><p class="muted">tutorloop provider emulator · <a href="/">home</a> · <a href="/inbox">inbox</a></p>${body}</body></html>`;
}

export function indexPage(info: { apiUrl: string | null; base: string }): string {
  return layout(
    "Provider emulator",
    `<h1>Provider emulator</h1>
<p>Local stand-ins for Stripe, Resend, Deepgram, OpenAI and Agora App Builder, speaking their wire formats.</p>
<ul>
<li><a href="/inbox">Inbox</a> — every e-mail sent through <code>POST /emails</code> (one-time login codes included); <a href="/inbox.json">JSON</a></li>
<li><a href="/checkout">Checkout sessions</a> — hosted pages with Pay / Cancel</li>
<li><a href="/__control/events">Stripe events sent</a> · <a href="/__control/requests">all recorded requests</a></li>
</ul>
<p>API (webhook target): <code>${esc(info.apiUrl ?? "not set")}</code> · this emulator: <code>${esc(info.base)}</code></p>`,
  );
}

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

export function meetPage(room: { channel: string; title: string; role: string } | null): string {
  if (!room) return layout("Unknown room", "<h1>Unknown passphrase</h1><p>No room has this passphrase.</p>");
  return layout(
    `Room ${room.title}`,
    `<h1>${esc(room.title)}</h1><p>You joined channel <code>${esc(room.channel)}</code> as <strong>${esc(room.role)}</strong>. (Emulated Agora App Builder room: no audio or video here.)</p>`,
  );
}
