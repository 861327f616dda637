/**
 * The demo's last part: the tutor gets paid. The tutor opens a Stripe Connect Express account, goes
 * through the (emulated) hosted onboarding page, whose "Complete onboarding" sends a signed
 * `account.updated`; an admin runs payouts; the transfer job pays the tutor's whole balance, and
 * the earnings statement, the payouts list and the reconciliation show where the money went.
 * Every API call goes through the typed SDK.
 */
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import { type Client, poll, type Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

export interface PayoutsDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  tutor: Tokens;
  tag: string;
}

export async function payoutsJourney({ c, step, admin, tutor, tag }: PayoutsDemo) {
  const asTutor = sdkAs(c, tutor);
  const asAdmin = sdkAs(c, admin);
  const earnings = async () => unwrap(await asTutor.GET("/v1/me/earnings"));
  step("Tutor's available earnings, before any payout account", await earnings());

  const account = unwrap(await asTutor.POST("/v1/me/payout-account"));
  step("Tutor opened a Stripe Connect Express account (POST /v1/accounts) and got an onboarding link", account);
  const page = await fetch(account.onboardingUrl);
  if (page.status !== 200) throw new Error(`onboarding page: HTTP ${page.status}`);
  const done = await fetch(account.onboardingUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: "outcome=complete",
  });
  if (!done.ok) throw new Error(`onboarding: HTTP ${done.status} ${await done.text()}`);
  const enabled = await poll("account.updated to enable payouts", 30_000, async () => {
    const a = unwrap(await asTutor.GET("/v1/me/payout-account"));
    return a.payoutsEnabled ? a : undefined;
  });
  step("Tutor completed Stripe's hosted onboarding; its signed account.updated enabled payouts", enabled);

  const run = unwrap(
    await asAdmin.POST("/v1/admin/payouts/run", { params: { header: idempotencyKey(`demo-payouts-${tag}`) } }),
  );
  step("Admin ran payouts (the cron does it daily at PAYOUT_HOUR_UTC)", run);
  const paid = await poll("the transfer", 30_000, async () => {
    const [p] = unwrap(await asTutor.GET("/v1/me/payouts")).items;
    return p?.status === "paid" ? p : undefined;
  });
  step(`The transfer job sent ${paid.amountCents} cents to the tutor's account (POST /v1/transfers)`, paid);

  const ledger = unwrap(await asTutor.GET("/v1/me/earnings/ledger"));
  step("Tutor's earnings statement (newest first) and balance", {
    earnings: await earnings(),
    ledger: ledger.items.map(
      (e) => `${e.source} ${e.type === "credit" ? "+" : "-"}${e.amountCents} → ${e.balanceAfterCents}`,
    ),
  });
  const rec = unwrap(await asAdmin.GET("/v1/admin/reconciliation"));
  step(`Admin reconciliation after the payout: balanced ${rec.balanced}`, rec.cents);
}
