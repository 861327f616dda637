/** The layout every emulator page shares (no scripts, no fonts from elsewhere) and the index page. */

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
.badge.ok{background:#e3f4e8;color:#14532d}.badge.bad{background:#fde8e8;color:#8a1c1c}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #d8dbe4;padding:.35rem .5rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}summary{cursor:pointer}
form.settings{display:block}form.settings label{display:block;margin:.25rem 0}input[type=text]{font:inherit;width:100%;max-width:36rem;padding:.35rem;box-sizing:border-box}
fieldset{border:1px solid #d8dbe4;border-radius:6px;margin:.75rem 0}
</style></head><body><p class="muted">tutorloop provider emulator · <a href="/">home</a> · <a href="/inbox">inbox</a> · <a href="/hooks">webhooks</a></p>${body}</body></html>`;
}

export function indexPage(info: { apiUrl: string | null; base: string }): string {
  return layout(
    "Provider emulator",
    `<h1>Provider emulator</h1>
<p>Local stand-ins for Stripe, Resend, Deepgram, OpenAI and Agora App Builder, speaking their wire formats, and receivers for the platform's own webhooks.</p>
<ul>
<li><a href="/inbox">Inbox</a> — every e-mail sent through <code>POST /emails</code> (one-time login codes included); <a href="/inbox.json">JSON</a></li>
<li><a href="/checkout">Checkout sessions</a> — hosted pages with Pay / Cancel; once paid, Refund / Dispute (and the dispute's outcome)</li>
<li><a href="/connect">Connect</a> — connected accounts (hosted onboarding from an Account Link) and transfers, with Disable payouts / Reverse</li>
<li><a href="/hooks">Webhook receivers</a> — endpoints <code>/hooks/&lt;name&gt;</code> for the platform's outgoing webhooks: every delivery, checked with the SDK's <code>verifyWebhook</code></li>
<li><a href="/__control/events">Stripe events sent</a> · <a href="/__control/requests">all recorded requests</a></li>
</ul>
<p>API (webhook target): <code>${esc(info.apiUrl ?? "not set")}</code> · this emulator: <code>${esc(info.base)}</code></p>`,
  );
}
