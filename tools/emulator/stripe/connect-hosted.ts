/**
 * Connect's pages as the emulator draws them. Plain HTML forms (no scripts), usable with the keyboard:
 * - `GET /connect/onboarding/:token`: the hosted onboarding an Account Link's `url` leads to. Opening
 *   it spends the link; a spent or expired link sends the browser to its `refresh_url` (303), as
 *   Stripe does. Its form posts `outcome=complete` (details submitted, charges and payouts enabled,
 *   transfers active) or `outcome=pending` (details submitted, payouts not yet enabled) to the same
 *   path, which sends `account.updated` and then 303s to `return_url` (JSON with `Accept: application/json`).
 * - `GET /connect`: the platform's dashboard: accounts and transfers, with Payouts off/on and Reverse.
 */
import { type Call, html, send } from "../http.ts";
import { esc, layout } from "../pages.ts";
import { type State, unixSeconds } from "../state.ts";
import { type Refused, stripeErrorBody } from "./api.ts";
import { type Done, dashboardReverseTransfer, dashboardUpdateAccount } from "./dashboard.ts";
import { parseStripeForm } from "./form.ts";
import { money } from "./payments.ts";
import type { StoredAccount, StoredAccountLink } from "./store.ts";
import { remaining } from "./transfers.ts";

const redirect = (call: Call, to: string): true => {
  call.res.writeHead(303, { location: to, "content-type": "text/plain; charset=utf-8" });
  call.res.end(`See ${to}`);
  return true;
};

const yesNo = (b: boolean) => `<span class="badge">${b ? "yes" : "no"}</span>`;

function onboardingPage(a: StoredAccount, link: StoredAccountLink): string {
  return layout(
    `Onboarding ${a.id}`,
    `<h1>Set up payouts</h1>
<div class="card"><div>Express account <code>${esc(a.id)}</code> · ${esc(a.email ?? "no e-mail")}</div>
<div class="muted">Test mode: nothing you enter here is checked or kept. This link is now spent; opening it again goes to <code>${esc(link.refresh_url)}</code>.</div></div>
<form method="post" action="/connect/onboarding/${esc(link.token)}">
<p><label for="legal-name">Legal name</label><br><input id="legal-name" name="legal_name" autocomplete="name" value="Test Tutor"></p>
<p><label for="bank">Bank account (test routing 110000000, account 000123456789)</label><br><input id="bank" name="bank" value="000123456789" inputmode="numeric"></p>
<p>
<button type="submit" name="outcome" value="complete">Complete onboarding</button>
<button type="submit" name="outcome" value="pending" class="secondary">Submit details but leave payouts pending</button>
</p>
<p class="muted">Either button sends <code>account.updated</code> (a Connect event, signed with the Connect webhook secret) and returns to <code>${esc(link.return_url)}</code>.</p>
</form>`,
  );
}

function resultPage(title: string, out: Done<unknown> | Refused | null, back: string): string {
  const lines =
    out && !("status" in out)
      ? out.sent
          .map(({ event, delivery }) =>
            !delivery
              ? ""
              : "status" in delivery
                ? `<p>Webhook <code>${esc(event.type)}</code> delivered: HTTP ${delivery.status}</p><pre>${esc(delivery.body)}</pre>`
                : `<p><strong>Webhook <code>${esc(event.type)}</code> NOT delivered:</strong> ${esc(delivery.error)}</p>`,
          )
          .join("\n")
      : "";
  return layout(title, `<h1>${esc(title)}</h1>${lines}<p><a href="${esc(back)}">Back to Connect</a></p>`);
}

async function onboarding(state: State, call: Call, token: string): Promise<true> {
  const link = state.stripe.accountLinks.get(token);
  const account = link && state.stripe.accounts.get(link.account);
  if (!link || !account) return html(call.res, 404, resultPage("No such onboarding link", null, "/connect"));
  if (call.method === "GET") {
    // single use: once opened (or past expires_at) the link only sends the browser to refresh_url
    if (link.openedAt !== null || link.expires_at <= unixSeconds()) return redirect(call, link.refresh_url);
    link.openedAt = Date.now();
    return html(call.res, 200, onboardingPage(account, link));
  }
  if (link.finishedAt !== null || (link.openedAt === null && link.expires_at <= unixSeconds())) {
    return redirect(call, link.refresh_url);
  }
  const outcome = parseStripeForm(call.body).outcome ?? "complete";
  const out = await dashboardUpdateAccount(state, account.id, { outcome });
  if ("status" in out) {
    if (call.wantsJson) return send(call.res, out.status, stripeErrorBody(out.message, out));
    return html(call.res, out.status, resultPage(out.message, null, "/connect"));
  }
  link.openedAt ??= Date.now();
  link.finishedAt = Date.now();
  if (call.wantsJson) return send(call.res, 200, { ...out.body, sent: out.sent, redirect: link.return_url });
  return redirect(call, link.return_url);
}

const button = (action: string, label: string, secondary = false) =>
  `<form method="post" action="${esc(action)}"><button${secondary ? ' class="secondary"' : ""} type="submit">${esc(label)}</button></form>`;

function dashboardPage(state: State, notice: string | null): string {
  const accounts = [...state.stripe.accounts.values()]
    .reverse()
    .map(
      (
        a,
      ) => `<tr><th scope="row"><code>${esc(a.id)}</code></th><td>${esc(a.email ?? "")}</td><td>${yesNo(a.details_submitted)}</td><td>${yesNo(a.payouts_enabled)}</td><td><span class="badge">${esc(a.transfersRequested ? a.transfers : "not requested")}</span>${a.refuseTransfers ? ` <span class="badge">refuses: ${esc(a.refuseTransfers.code)}</span>` : ""}</td>
<td>${a.payouts_enabled ? button(`/connect/accounts/${a.id}/payouts-off`, "Disable payouts", true) : button(`/connect/accounts/${a.id}/payouts-on`, "Enable payouts")}</td></tr>`,
    )
    .join("\n");
  const transfers = [...state.stripe.transfers]
    .reverse()
    .map(
      (
        t,
      ) => `<tr><th scope="row"><code>${esc(t.id)}</code></th><td>${esc(money(t.amount, t.currency))}</td><td><code>${esc(t.destination)}</code></td><td>${esc(t.transferGroup ?? "")}</td><td>${esc(money(t.amount - remaining(t), t.currency))}</td>
<td>${remaining(t) > 0 ? button(`/connect/transfers/${t.id}/reverse`, `Reverse ${money(remaining(t), t.currency)}`, true) : "reversed"}</td></tr>`,
    )
    .join("\n");
  return layout(
    "Connect",
    `<h1>Connect</h1>${notice ? `<p role="status" class="card">${esc(notice)}</p>` : ""}
<table><caption>Connected accounts (newest first)</caption><thead><tr><th scope="col">Account</th><th scope="col">E-mail</th><th scope="col">Details submitted</th><th scope="col">Payouts enabled</th><th scope="col">Transfers capability</th><th scope="col">Action</th></tr></thead>
<tbody>${accounts || '<tr><td colspan="6">None yet.</td></tr>'}</tbody></table>
<p class="muted">Disable / Enable payouts sends <code>account.updated</code>; Reverse sends <code>transfer.reversed</code>.</p>
<table><caption>Transfers (newest first)</caption><thead><tr><th scope="col">Transfer</th><th scope="col">Amount</th><th scope="col">Destination</th><th scope="col">Transfer group</th><th scope="col">Reversed</th><th scope="col">Action</th></tr></thead>
<tbody>${transfers || '<tr><td colspan="6">None yet.</td></tr>'}</tbody></table>`,
  );
}

const NOTICES: Record<string, string> = {
  expired:
    "That onboarding link was spent or expired: Stripe sent the browser to the refresh_url. Ask the API for a new link.",
  returned: "Back from onboarding: the account's state is below.",
};

const ACTIONS = /^\/connect\/(accounts|transfers)\/([^/]+)\/(payouts-off|payouts-on|reverse)$/;

/** The hosted Connect pages (not provider calls: not recorded). */
export async function hostedConnect(state: State, call: Call): Promise<boolean> {
  const { path, method } = call;
  if (path === "/connect" && method === "GET") {
    return html(call.res, 200, dashboardPage(state, NOTICES[call.url.searchParams.get("link") ?? ""] ?? null));
  }
  const link = /^\/connect\/onboarding\/([^/]+)$/.exec(path);
  if (link && (method === "GET" || method === "POST"))
    return onboarding(state, call, decodeURIComponent(link[1] as string));
  const action = ACTIONS.exec(path);
  if (!action || method !== "POST") return false;
  const id = decodeURIComponent(action[2] as string);
  const out =
    action[3] === "reverse"
      ? await dashboardReverseTransfer(state, id)
      : await dashboardUpdateAccount(state, id, { payouts_enabled: action[3] === "payouts-on" });
  if (call.wantsJson) {
    return "status" in out
      ? send(call.res, out.status, stripeErrorBody(out.message, out))
      : send(call.res, 200, { ...(out.body as object), sent: out.sent });
  }
  const title = "status" in out ? out.message : action[3] === "reverse" ? "Transfer reversed" : "Account updated";
  return html(call.res, "status" in out ? out.status : 200, resultPage(title, out, "/connect"));
}
