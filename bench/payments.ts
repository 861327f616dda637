/**
 * Money after the fact, as write paths:
 * - refund and dispute webhooks → reversed: a signed `charge.refunded` (half the orders the checkout
 *   path credited) or `charge.dispute.created` (the other half), shaped as Stripe sends them
 *   (src/modules/webhooks/stripe-charges.ts reads the charge's or dispute's `payment_intent`,
 *   `amount`, `amount_refunded`, `status`), through the payments queue and the buyer's CreditLedger,
 *   until the buyer's balance shows the credits taken back (0);
 * - a payout run (`POST /v1/admin/payouts/run`) over the seeded tutors with earnings and an enabled
 *   account: the bench servers run with no Stripe (STRIPE_SECRET_KEY unset, bench/server.ts), so the
 *   transfers (`stripe.transfer` jobs) cannot happen; measured is the run's own step — every payout
 *   created with its debit in the tutor's CreditLedger, slice after slice on the jobs queue — until
 *   `GET /v1/admin/payouts/due` lists nobody.
 */
import { CONNECTIONS, log, NOW, round, token } from "./config.ts";
import { drive, percentile } from "./load.ts";
import { postStripeEvent, until, type WriteMode } from "./paths.ts";
import {
  addRows,
  checkRows,
  jobRows,
  jobsSince,
  logMark,
  logSettled,
  perItem,
  type RowSample,
  rowsOf,
  sumJobs,
} from "./rows.ts";
import { ids } from "./seed-base.ts";
import { type Server, sdkAs } from "./server.ts";

/** The checkout path's orders (credited by then), half refunded and half disputed. */
export async function chargeReversals(server: Server, orders: number, mode: WriteMode) {
  const refunds = Math.ceil(orders / 2);
  log(`  refund (${refunds}) and dispute (${orders - refunds}) webhooks → reversed`);
  const buyers = (
    await Promise.all(Array.from({ length: orders }, (_, k) => token(ids.webhookUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const ackRows: RowSample[] = [];
  const latency: { refund: number[]; dispute: number[] } = { refund: [], dispute: [] };
  const mark = logMark(server.log);
  const cents = 5_000; // the orders' totalCents (bench/seed.ts)
  const run = await drive({
    concurrency: mode.timed ? CONNECTIONS : 1,
    count: orders,
    op: async (k) => {
      const kind = k < refunds ? "refund" : "dispute";
      const t = performance.now();
      const res =
        kind === "refund"
          ? await postStripeEvent(server, `evt_bench_refund_${k}_${NOW}`, "charge.refunded", {
              id: `ch_bench_${k}`,
              object: "charge",
              amount: cents,
              amount_refunded: cents,
              currency: "usd",
              refunded: true,
              status: "succeeded",
              payment_intent: `pi_bench_${k}`,
            })
          : await postStripeEvent(server, `evt_bench_dispute_${k}_${NOW}`, "charge.dispute.created", {
              id: `du_bench_${k}`,
              object: "dispute",
              amount: cents,
              currency: "usd",
              status: "needs_response",
              reason: "fraudulent",
              charge: `ch_bench_${k}`,
              payment_intent: `pi_bench_${k}`,
            });
      if (!res.ok) throw new Error(`${kind} webhook → ${res.status}`);
      const rows = rowsOf(res);
      if (rows) ackRows.push(rows);
      const reversed = await until(async () => {
        const { data } = (await buyers[k]?.GET("/v1/credits/balance")) ?? {};
        return data?.balance === 0;
      });
      if (reversed) latency[kind].push(performance.now() - t);
      return reversed;
    },
  });
  const p50 = (xs: number[]) =>
    round(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
      2,
    );
  return {
    ...run,
    refunds,
    disputes: orders - refunds,
    refundP50: p50(latency.refund),
    disputeP50: p50(latency.dispute),
    rows: checkRows("POST /v1/webhooks/stripe", ackRows),
    jobRows: await jobRows(server, mark, ["stripe.charge"], "stripe.charge job", "event"),
  };
}

export async function payoutRun(server: Server, mode: WriteMode) {
  const expected = Math.min(ids.payoutTutors, mode.scale.tutors);
  log(`  payout run over ${expected} tutors (no Stripe: payouts created and debited, no transfers)`);
  const admin = sdkAs(server, await token(ids.adminUser, "admin"));
  const mark = logMark(server.log);
  const t = performance.now();
  const { response, data, error } = await admin.POST("/v1/admin/payouts/run", {});
  const requestMs = Math.round(performance.now() - t);
  const failure = response.status === 202 ? null : `${response.status} ${JSON.stringify(error).slice(0, 300)}`;
  const requestRows = rowsOf(response);
  const drained =
    !failure &&
    (await until(
      async () => {
        const due = await admin.GET("/v1/admin/payouts/due", { params: { query: { limit: 1 } } });
        return due.data?.items.length === 0;
      },
      180_000,
      100,
    ));
  const elapsedMs = performance.now() - t;
  let created = 0;
  if (data) {
    for await (const p of admin.paginate("/v1/admin/payouts", { params: { query: { limit: 100 } } })) {
      if (p.runId === data.runId) created++;
    }
  }
  await logSettled(server.log);
  const slices = jobsSince(server.log, mark, ["payouts.run"]);
  const total = requestRows ? addRows(requestRows, sumJobs(slices)) : null;
  const ok = drained && created === expected;
  return {
    runId: data?.runId ?? null,
    expected,
    created,
    /** Payouts the request itself made (its first slice); the rest ran on the jobs queue. */
    inRequest: data?.payouts ?? 0,
    queueSlices: slices.length,
    requestMs,
    elapsedMs: Math.round(elapsedMs),
    payoutsPerSec: ok ? round(created / (elapsedMs / 1000), 1) : null,
    failure,
    ok,
    requestRows: requestRows ? checkRows("POST /v1/admin/payouts/run", [requestRows]) : null,
    rows: total ? checkRows("payout run, per payout", [perItem(total, created)], "payout") : null,
  };
}
