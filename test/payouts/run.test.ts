/**
 * Payout runs in the Workers runtime: one payout per eligible tutor however many runs overlap, each
 * with its own transfer; the minimum, the enabled flag and a pending payout skip a tutor; the cron
 * runs once per UTC day from PAYOUT_HOUR_UTC.
 */
import { describe, expect, it } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import {
  cronDayOf,
  payoutRunJob,
  requeueUnattempted,
  runPayouts,
  runSlice,
  scheduledPayouts,
} from "../../src/modules/payouts/run";
import { transferPayoutJob } from "../../src/modules/payouts/transfer";
import { env, fakeRequests } from "../helpers/api";
import { earn, earningsBalance, payoutsOf, payoutTutor, recordingSvc, transfersOf } from "./helpers";

const admin = { kind: "admin" as const, actorUserId: "usr_admin_test" };

describe("payout runs", () => {
  it("20 concurrent runs over 50 eligible tutors: exactly 50 payouts and 50 transfers, each keyed by its payout", async () => {
    const tutors = await Promise.all(Array.from({ length: 50 }, (_, i) => payoutTutor(2000 + i * 100)));
    const { svc, sent } = await recordingSvc();
    const runs = await Promise.all(Array.from({ length: 20 }, () => runPayouts(svc, admin)));

    const payouts = (await Promise.all(tutors.map((t) => payoutsOf(t.id)))).flat();
    expect(payouts).toHaveLength(50);
    expect(new Set(payouts.map((p) => p.id)).size).toBe(50);
    for (const [i, t] of tutors.entries()) {
      const [p] = await payoutsOf(t.id);
      expect(p).toMatchObject({ amountCents: 2000 + i * 100, status: "pending" });
      expect(await earningsBalance(t.id)).toBe(0);
    }
    // each run answers the number of payouts it wrote (other tests' tutors may be among them)
    for (const r of runs) {
      const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM payouts WHERE runId = ?")
        .bind(r?.runId)
        .first<{ n: number }>();
      expect(r?.payouts).toBe(n?.n);
    }

    const jobs = transfersOf(sent).filter((m) => payouts.some((p) => p.id === m.payoutId));
    expect(jobs).toHaveLength(50);
    await Promise.all(jobs.map((m) => transferPayoutJob(svc, m)));
    const calls = (await fakeRequests("/v1/transfers")).filter(
      (r) => r.method === "POST" && payouts.some((p) => r.headers["idempotency-key"] === p.id),
    );
    expect(calls).toHaveLength(50);
    expect(new Set(calls.map((r) => r.headers["idempotency-key"])).size).toBe(50);
    for (const t of tutors) {
      const [p] = await payoutsOf(t.id);
      expect(p?.status).toBe("paid");
      expect(p?.stripeTransferId).toMatch(/^tr_/);
    }
  });

  it("checks the transfer on the wire: form-encoded, destination, transfer_group, metadata, no Stripe-Account header", async () => {
    const t = await payoutTutor(4321);
    const { svc, sent } = await recordingSvc();
    await runPayouts(svc, admin);
    const [p] = await payoutsOf(t.id);
    const job = transfersOf(sent).find((m) => m.payoutId === p?.id);
    expect(job).toBeDefined();
    if (!job || !p) return;
    await transferPayoutJob(svc, job);
    const [call] = (await fakeRequests("/v1/transfers")).filter(
      (r) => r.method === "POST" && r.headers["idempotency-key"] === p.id,
    );
    expect(call?.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(call?.headers["stripe-account"]).toBeUndefined();
    const form = new URLSearchParams(call?.body ?? "");
    expect(Object.fromEntries(form)).toMatchObject({
      amount: "4321",
      currency: "usd",
      destination: t.accountId,
      transfer_group: p.id,
      "metadata[payoutId]": p.id,
      "metadata[userId]": t.id,
      "metadata[runId]": p.runId,
    });
  });

  it("skips a tutor below the minimum, one without payouts enabled, and one with a payout pending", async () => {
    const low = await payoutTutor(1999);
    const off = await payoutTutor(5000, { enabled: false });
    const busy = await payoutTutor(3000);
    const { svc } = await recordingSvc();
    await runPayouts(svc, admin);
    expect(await payoutsOf(low.id)).toEqual([]);
    expect(await payoutsOf(off.id)).toEqual([]);
    expect(await payoutsOf(busy.id)).toHaveLength(1);
    // new earnings while the first payout is still pending wait for it
    await earn(busy.id, 2500);
    await runPayouts(svc, admin);
    expect(await payoutsOf(busy.id)).toHaveLength(1);
    expect(await earningsBalance(busy.id)).toBe(2500);
    // the object refuses on its own too (the run's query is only a pre-filter)
    const direct = await ledgerFor(env, off.id).startPayout({
      userId: off.id,
      runId: "prun_direct",
      stripeAccountId: off.accountId,
      minimumCents: 2000,
      currency: "usd",
      at: Date.now(),
    });
    expect(direct).toMatchObject({ ok: true, started: false, reason: "not_enabled" });
    const pending = await ledgerFor(env, busy.id).startPayout({
      userId: busy.id,
      runId: "prun_direct",
      stripeAccountId: busy.accountId,
      minimumCents: 2000,
      currency: "usd",
      at: Date.now(),
    });
    expect(pending).toMatchObject({ ok: true, started: false, reason: "payout_pending" });
  });

  it("a repeated step of the same run returns the run's payout and writes nothing more", async () => {
    const t = await payoutTutor(2400);
    const input = {
      userId: t.id,
      runId: `prun_${crypto.randomUUID()}`,
      stripeAccountId: t.accountId,
      minimumCents: 2000,
      currency: "usd",
      at: Date.now(),
    };
    const [a, b] = await Promise.all([
      ledgerFor(env, t.id).startPayout(input),
      ledgerFor(env, t.id).startPayout(input),
    ]);
    expect(a).toMatchObject({ ok: true, started: true });
    expect(b).toMatchObject({ ok: true, started: true, replayed: true });
    expect(await payoutsOf(t.id)).toHaveLength(1);
  });

  it("a settlement credit racing the payout's debit keeps the chain and pays what was read", async () => {
    const t = await payoutTutor(3000);
    const { svc } = await recordingSvc();
    await Promise.all([runPayouts(svc, admin), earn(t.id, 700)]);
    const [p] = await payoutsOf(t.id);
    expect([3000, 3700]).toContain(p?.amountCents);
    expect(await earningsBalance(t.id)).toBe(3700 - (p?.amountCents ?? 0));
  });

  it("a full slice passes the rest of the run to the queue", async () => {
    const { svc, sent } = await recordingSvc();
    const slice = await runSlice(svc, `prun_${crypto.randomUUID()}`, "usr_~~~~");
    expect(slice).toEqual({ started: 0, next: null, failed: 0 });
    expect(sent.filter((m) => m.type === "payouts.run")).toEqual([]);
  });

  it("one tutor's failing step never stops the others; the slice is run again later", async () => {
    const good = await payoutTutor(2100);
    const bad = await payoutTutor(2200);
    const { svc, sent } = await recordingSvc();
    const real = env.CREDIT_LEDGER;
    // the bad tutor's object is unreachable (an outage of that one Durable Object)
    const flaky = {
      idFromName: (name: string) => ({ name, id: real.idFromName(name) }),
      get: (x: { name: string; id: DurableObjectId }) =>
        x.name === bad.id
          ? {
              startPayout: async () => {
                throw new Error("Network connection lost.");
              },
            }
          : real.get(x.id),
    };
    const run = await runPayouts(
      { ...svc, env: { ...svc.env, CREDIT_LEDGER: flaky } as unknown as typeof svc.env },
      admin,
    );
    expect(await payoutsOf(good.id)).toHaveLength(1);
    expect(await payoutsOf(bad.id)).toEqual([]);
    const again = sent.filter((m) => m.type === "payouts.run" && m.runId === run?.runId);
    expect(again).toEqual([{ type: "payouts.run", runId: run?.runId, after: "", round: 1 }]);
    // the retried slice (objects reachable again) pays the other tutor, in the same run, once
    const retry = again[0];
    if (retry?.type === "payouts.run") await payoutRunJob(svc, retry);
    expect((await payoutsOf(bad.id)).map((p) => p.runId)).toEqual([run?.runId]);
    expect(await payoutsOf(good.id)).toHaveLength(1);
  });

  it("the cron runs once per UTC day, from PAYOUT_HOUR_UTC on", async () => {
    expect(cronDayOf(Date.UTC(2026, 11, 2, 1, 59), 2)).toBeNull();
    expect(cronDayOf(Date.UTC(2026, 11, 2, 2, 0), 2)).toBe("2026-12-02");
    expect(cronDayOf(Date.UTC(2026, 11, 2, 23, 59), 2)).toBe("2026-12-02");
    const t = await payoutTutor(2600);
    const { svc } = await recordingSvc();
    // a day far from any other test's: the first tick of the day runs, the next ticks do not
    const day = Date.UTC(2031, 0, 7, 3, 0);
    const at = { ...svc, clock: { now: () => day, offsetMs: 0 } };
    const first = await scheduledPayouts(at);
    expect(first.run?.runId).toMatch(/^prun_/);
    expect(await payoutsOf(t.id)).toHaveLength(1);
    await earn(t.id, 5000);
    const second = await scheduledPayouts({ ...at, clock: { now: () => day + 5 * 60_000, offsetMs: 0 } });
    expect(second.run).toBeNull();
    const early = await scheduledPayouts({ ...at, clock: { now: () => Date.UTC(2031, 0, 8, 1, 0), offsetMs: 0 } });
    expect(early.run).toBeNull();
  });

  it("re-enqueues a pending payout whose transfer job never ran, and only that one", async () => {
    const t = await payoutTutor(2200);
    const { svc, sent } = await recordingSvc();
    await runPayouts(svc, admin);
    const [p] = await payoutsOf(t.id);
    sent.length = 0;
    const later = { ...svc, clock: { now: () => Date.now() + 11 * 60_000, offsetMs: 0 } };
    await requeueUnattempted(later);
    expect(transfersOf(sent).some((m) => m.payoutId === p?.id)).toBe(true);
    const job = transfersOf(sent).find((m) => m.payoutId === p?.id);
    if (job) await transferPayoutJob(svc, job);
    sent.length = 0;
    await requeueUnattempted(later);
    expect(transfersOf(sent).some((m) => m.payoutId === p?.id)).toBe(false);
  });
});
