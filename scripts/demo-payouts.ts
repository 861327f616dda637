/**
 * The demo's last part: the tutor gets paid. The tutor opens a Stripe Connect Express account, goes
 * through the (emulated) hosted onboarding page, whose "Complete onboarding" sends a signed
 * `account.updated`; an admin runs payouts; the transfer job pays the tutor's whole balance, and
 * the earnings statement, the payouts list and the reconciliation show where the money went.
 */
import { type Client, poll, type Tokens } from "../tools/offline/client.ts";

export interface PayoutsDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  tutor: Tokens;
  tag: string;
}

interface Payout {
  id: string;
  amountCents: number;
  currency: string;
  status: string;
  stripeTransferId: string | null;
}

export async function payoutsJourney({ c, step, admin, tutor, tag }: PayoutsDemo) {
  const token = tutor.accessToken;
  const earnings = () =>
    c.ok<{ balanceCents: number; currency: string; payoutsEnabled: boolean }>("/v1/me/earnings", { token });
  step("Tutor's available earnings, before any payout account", await earnings());

  const account = await c.ok<{ accountId: string; onboardingUrl: string; payoutsEnabled: boolean }>(
    "/v1/me/payout-account",
    { method: "POST", token },
    201,
  );
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
    const a = await c.ok<{ accountId: string; payoutsEnabled: boolean; detailsSubmitted: boolean }>(
      "/v1/me/payout-account",
      { token },
    );
    return a.payoutsEnabled ? a : undefined;
  });
  step("Tutor completed Stripe's hosted onboarding; its signed account.updated enabled payouts", enabled);

  const run = await c.ok<{ runId: string; payouts: number }>(
    "/v1/admin/payouts/run",
    { method: "POST", token: admin.accessToken, headers: { "idempotency-key": `demo-payouts-${tag}` } },
    202,
  );
  step("Admin ran payouts (the cron does it daily at PAYOUT_HOUR_UTC)", run);
  const paid = await poll("the transfer", 30_000, async () => {
    const [p] = (await c.ok<{ items: Payout[] }>("/v1/me/payouts", { token })).items;
    return p?.status === "paid" ? p : undefined;
  });
  step(`The transfer job sent ${paid.amountCents} cents to the tutor's account (POST /v1/transfers)`, paid);

  const ledger = await c.ok<{
    items: { source: string; type: string; amountCents: number; balanceAfterCents: number }[];
  }>("/v1/me/earnings/ledger", { token });
  step("Tutor's earnings statement (newest first) and balance", {
    earnings: await earnings(),
    ledger: ledger.items.map(
      (e) => `${e.source} ${e.type === "credit" ? "+" : "-"}${e.amountCents} → ${e.balanceAfterCents}`,
    ),
  });
  const rec = await c.ok<{ balanced: boolean; cents: Record<string, number> }>("/v1/admin/reconciliation", {
    token: admin.accessToken,
  });
  step(`Admin reconciliation after the payout: balanced ${rec.balanced}`, rec.cents);
}
