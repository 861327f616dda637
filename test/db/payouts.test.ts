/**
 * The database's own guarantees for payouts (migration 0007), in raw SQL so that no application code
 * stands in between: the triggers that bind a payout to its `payout` debit and `payout_reversal`
 * credit, the status and money triggers, and the CHECKs and unique indexes of payouts, payout runs
 * and payout accounts. Every refusal is paired with the acceptance of the right row.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/lib/crypto";

interface PayoutRow {
  id?: string;
  userId: string;
  runId?: string;
  amountCents?: number;
  currency?: string;
  status?: string;
  stripeTransferId?: string | null;
  failureReason?: string | null;
}

const insertPayout = (p: PayoutRow) => {
  const id = p.id ?? newId("pay");
  return env.DB.prepare(
    `INSERT INTO payouts (id, userId, runId, amountCents, currency, stripeAccountId, status, stripeTransferId, failureReason, createdAt, updatedAt)
VALUES (?, ?, ?, ?, ?, 'acct_raw', ?, ?, ?, 1, 1)`,
  )
    .bind(
      id,
      p.userId,
      p.runId ?? newId("prun"),
      p.amountCents ?? 3000,
      p.currency ?? "usd",
      p.status ?? "pending",
      p.stripeTransferId ?? null,
      p.failureReason ?? null,
    )
    .run()
    .then(() => id);
};

/** The tutor's next earnings line, with its chain computed here (the chain trigger checks it). */
async function line(
  userId: string,
  e: { type: "credit" | "debit"; amountCents: number; source: string; payoutId?: string | null; currency?: string },
) {
  const last = await env.DB.prepare(
    "SELECT seq, balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1",
  )
    .bind(userId)
    .first<{ seq: number; balanceAfterCents: number }>();
  const balance = (last?.balanceAfterCents ?? 0) + (e.type === "credit" ? e.amountCents : -e.amountCents);
  return env.DB.prepare(
    `INSERT INTO earningsLedger (id, userId, seq, type, amountCents, balanceAfterCents, currency, source, sessionId, payoutId, description, idempotencyKey, createdAt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'raw', ?, 1)`,
  )
    .bind(
      newId("ern"),
      userId,
      (last?.seq ?? 0) + 1,
      e.type,
      e.amountCents,
      balance,
      e.currency ?? "usd",
      e.source,
      e.payoutId ?? null,
      `raw:${crypto.randomUUID()}`,
    )
    .run();
}

/** A tutor with `cents` of earnings (one manual credit). */
async function tutorWith(cents: number) {
  const id = newId("usr");
  await line(id, { type: "credit", amountCents: cents, source: "manual_adjustment" });
  return id;
}

const debit = (userId: string, payoutId: string, amountCents = 3000, currency = "usd") =>
  line(userId, { type: "debit", amountCents, source: "payout", payoutId, currency });
const reversal = (userId: string, payoutId: string, amountCents = 3000) =>
  line(userId, { type: "credit", amountCents, source: "payout_reversal", payoutId });

const setStatus = (id: string, status: string, extra = "") =>
  env.DB.prepare(`UPDATE payouts SET status = ?${extra}, updatedAt = 2 WHERE id = ?`).bind(status, id).run();
const markPaid = (id: string) =>
  env.DB.prepare("UPDATE payouts SET status = 'paid', stripeTransferId = ?, updatedAt = 2 WHERE id = ?")
    .bind(`tr_${id}`, id)
    .run();
const markFailed = (id: string) =>
  env.DB.prepare("UPDATE payouts SET status = 'failed', failureReason = 'refused', updatedAt = 2 WHERE id = ?")
    .bind(id)
    .run();
const payout = (id: string) =>
  env.DB.prepare("SELECT * FROM payouts WHERE id = ?").bind(id).first<Record<string, unknown>>();
const linesOf = async (payoutId: string) =>
  (
    await env.DB.prepare("SELECT source FROM earningsLedger WHERE payoutId = ? ORDER BY seq")
      .bind(payoutId)
      .all<{ source: string }>()
  ).results.map((r) => r.source);

/** A pending payout of 3000 with its debit, of a tutor who had 10000 (enough for a second debit). */
async function debited() {
  const userId = await tutorWith(10_000);
  const id = await insertPayout({ userId });
  await debit(userId, id);
  return { userId, id };
}

/** A payout that went through: debited, then updated to `paid` (it is born pending). */
async function paidPayout(stripeTransferId = `tr_${crypto.randomUUID()}`) {
  const { userId, id } = await debited();
  await env.DB.prepare("UPDATE payouts SET status = 'paid', stripeTransferId = ? WHERE id = ?")
    .bind(stripeTransferId, id)
    .run();
  return { userId, id };
}

describe("payout debits (earningsLedger_payout_matches, one per payout)", () => {
  it("refuses a debit that does not match a pending payout's tutor, amount and currency; accepts the match", async () => {
    const userId = await tutorWith(5000);
    const other = await tutorWith(5000);
    const id = await insertPayout({ userId });
    await expect(debit(other, id)).rejects.toThrow(/payout_debit_mismatch/);
    await expect(debit(userId, id, 2999)).rejects.toThrow(/payout_debit_mismatch/);
    await expect(debit(userId, id, 3000, "eur")).rejects.toThrow(/payout_debit_mismatch/);
    await expect(debit(userId, newId("pay"))).rejects.toThrow(/payout_debit_mismatch/);
    // a payout that is no longer pending takes no (second) debit
    const paid = await paidPayout();
    await expect(debit(paid.userId, paid.id)).rejects.toThrow(/payout_debit_mismatch|UNIQUE constraint failed/);
    await debit(userId, id);
    expect(await linesOf(id)).toEqual(["payout"]);
  });

  it("takes one debit per payout", async () => {
    const { userId, id } = await debited();
    await expect(debit(userId, id)).rejects.toThrow(/UNIQUE constraint failed: earningsLedger\.payoutId/);
    expect(await linesOf(id)).toEqual(["payout"]);
  });
});

describe("payout reversals (earningsLedger_reversal_matches, one per payout)", () => {
  it("refuses a reversal without the debit, of another amount or tutor, or of a failed payout; accepts the match", async () => {
    const userId = await tutorWith(5000);
    const id = await insertPayout({ userId });
    await expect(reversal(userId, id)).rejects.toThrow(/payout_reversal_mismatch/); // not debited yet
    await debit(userId, id);
    await expect(reversal(userId, id, 2999)).rejects.toThrow(/payout_reversal_mismatch/);
    await expect(reversal(await tutorWith(1), id)).rejects.toThrow(/payout_reversal_mismatch/);
    await expect(reversal(userId, newId("pay"))).rejects.toThrow(/payout_reversal_mismatch/);
    await reversal(userId, id);
    expect(await linesOf(id)).toEqual(["payout", "payout_reversal"]);
  });

  it("accepts the reversal of a paid payout (transfer.reversed), and refuses one for a failed payout", async () => {
    const { userId, id } = await debited();
    await markPaid(id);
    await reversal(userId, id);
    await markFailed(id);
    expect((await payout(id))?.status).toBe("failed");
    // a failed payout takes no reversal, even if the unique index were not there
    const failed = await debited();
    await reversal(failed.userId, failed.id);
    await markFailed(failed.id);
    await expect(reversal(failed.userId, failed.id)).rejects.toThrow(/payout_reversal_mismatch/);
  });

  it("takes one reversal per payout", async () => {
    const { userId, id } = await debited();
    await reversal(userId, id); // still pending: the trigger lets a second one through to the index
    await expect(reversal(userId, id)).rejects.toThrow(/UNIQUE constraint failed: earningsLedger\.payoutId/);
    expect(await linesOf(id)).toEqual(["payout", "payout_reversal"]);
  });
});

describe("payout status (payouts_paid_needs_debit, payouts_failed_needs_reversal, payouts_immutable_money)", () => {
  it("refuses paid without the debit; accepts it with the debit", async () => {
    const userId = await tutorWith(5000);
    const id = await insertPayout({ userId });
    await expect(markPaid(id)).rejects.toThrow(/payout_without_debit/);
    expect((await payout(id))?.status).toBe("pending");
    await debit(userId, id);
    await markPaid(id);
    expect((await payout(id))?.status).toBe("paid");
  });

  it("refuses failed without the reversal (from pending and from paid); accepts it with the reversal", async () => {
    const pending = await debited();
    await expect(markFailed(pending.id)).rejects.toThrow(/payout_failed_without_reversal/);
    const paid = await debited();
    await markPaid(paid.id);
    await expect(markFailed(paid.id)).rejects.toThrow(/payout_failed_without_reversal/);
    for (const p of [pending, paid]) {
      await reversal(p.userId, p.id);
      await markFailed(p.id);
      expect((await payout(p.id))?.status).toBe("failed");
    }
  });

  it("keeps failed final: no status, reason or time change", async () => {
    const { userId, id } = await debited();
    await reversal(userId, id);
    await markFailed(id);
    await expect(setStatus(id, "pending")).rejects.toThrow(/payout_final/);
    await expect(setStatus(id, "paid", ", stripeTransferId = 'tr_late'")).rejects.toThrow(/payout_final/);
    await expect(
      env.DB.prepare("UPDATE payouts SET failureReason = 'other' WHERE id = ?").bind(id).run(),
    ).rejects.toThrow(/payout_final/);
    expect(await payout(id)).toMatchObject({ status: "failed", failureReason: "refused", updatedAt: 2 });
  });

  it("never takes a paid payout back to pending; paid → paid (a touch) is accepted", async () => {
    const { id } = await debited();
    await markPaid(id);
    await expect(setStatus(id, "pending")).rejects.toThrow(/payout_final/);
    await env.DB.prepare("UPDATE payouts SET updatedAt = 3 WHERE id = ?").bind(id).run();
    expect(await payout(id)).toMatchObject({ status: "paid", updatedAt: 3 });
  });

  it("fixes the money fields and a transfer id once set; other fields may change", async () => {
    const { id } = await debited();
    for (const set of [
      "amountCents = 1",
      "userId = 'usr_other'",
      "runId = 'prun_other'",
      "currency = 'eur'",
      "stripeAccountId = 'acct_other'",
      "createdAt = 5",
      "id = 'pay_other'",
    ]) {
      await expect(env.DB.prepare(`UPDATE payouts SET ${set} WHERE id = ?`).bind(id).run(), set).rejects.toThrow(
        /payout_money_fixed/,
      );
    }
    await env.DB.prepare("UPDATE payouts SET attemptedAt = 7, updatedAt = 7 WHERE id = ?").bind(id).run();
    await markPaid(id); // null → a transfer id is how a payout is paid
    for (const set of ["stripeTransferId = 'tr_other'", "stripeTransferId = NULL"]) {
      await expect(env.DB.prepare(`UPDATE payouts SET ${set} WHERE id = ?`).bind(id).run(), set).rejects.toThrow(
        /payout_money_fixed|payouts_status_shape/,
      );
    }
    expect(await payout(id)).toMatchObject({
      amountCents: 3000,
      currency: "usd",
      attemptedAt: 7,
      stripeTransferId: `tr_${id}`,
    });
  });

  it("never deletes a payout", async () => {
    const { id } = await debited();
    await expect(env.DB.prepare("DELETE FROM payouts WHERE id = ?").bind(id).run()).rejects.toThrow(
      /payouts_append_only/,
    );
    expect(await payout(id)).not.toBeNull();
  });
});

describe("payout uniqueness and CHECKs", () => {
  it("keeps one pending payout per tutor; another once the first is no longer pending", async () => {
    const { userId, id } = await debited();
    await expect(insertPayout({ userId })).rejects.toThrow(/UNIQUE constraint failed: payouts\.userId/);
    await insertPayout({ userId: await tutorWith(1) }); // another tutor's
    await markPaid(id);
    await insertPayout({ userId });
  });

  it("keeps one payout per run and tutor", async () => {
    const { userId, id } = await debited();
    const runId = (await payout(id))?.runId as string;
    await markPaid(id);
    await expect(insertPayout({ userId, runId })).rejects.toThrow(
      /UNIQUE constraint failed: payouts\.runId, payouts\.userId/,
    );
    await insertPayout({ userId: await tutorWith(1), runId }); // the same run, another tutor
    await insertPayout({ userId }); // another run, the same tutor
  });

  it("keeps one payout per transfer id", async () => {
    const transfer = `tr_${crypto.randomUUID()}`;
    await paidPayout(transfer);
    await expect(paidPayout(transfer)).rejects.toThrow(/UNIQUE constraint failed: payouts\.stripeTransferId/);
  });

  it("checks the status, its shape and a positive amount", async () => {
    const userId = () => newId("usr");
    // a payout is born pending (payouts_born_pending fires before the CHECKs)
    await expect(insertPayout({ userId: userId(), status: "sent" })).rejects.toThrow(/payout_born_pending/);
    await expect(insertPayout({ userId: userId(), status: "paid" })).rejects.toThrow(/payout_born_pending/);
    await expect(insertPayout({ userId: userId(), status: "failed" })).rejects.toThrow(/payout_born_pending/);
    await expect(insertPayout({ userId: userId(), amountCents: 0 })).rejects.toThrow(/payouts_amount_positive/);
    await expect(insertPayout({ userId: userId(), amountCents: -5 })).rejects.toThrow(/payouts_amount_positive/);
    await insertPayout({ userId: userId(), amountCents: 1 });
    await expect(insertPayout({ userId: userId(), status: "failed", failureReason: "refused" })).rejects.toThrow(
      /payout_born_pending/,
    );
  });

  it("a payout is born pending: never inserted paid, failed, with a transfer id or a failure reason", async () => {
    for (const row of [
      { status: "paid", stripeTransferId: `tr_${crypto.randomUUID()}` },
      { status: "failed", failureReason: "refused" },
      { stripeTransferId: `tr_${crypto.randomUUID()}` },
      { failureReason: "refused" },
    ]) {
      await expect(insertPayout({ userId: newId("usr"), ...row })).rejects.toThrow(/payout_born_pending/);
    }
  });
});

describe("payout runs and payout accounts", () => {
  const run = (trigger: string, actorUserId: string | null, cronDay: string | null) =>
    env.DB.prepare("INSERT INTO payoutRuns (id, trigger, actorUserId, cronDay, createdAt) VALUES (?, ?, ?, ?, 1)")
      .bind(newId("prun"), trigger, actorUserId, cronDay)
      .run();

  it("runs the cron once per day; admin runs any number of times", async () => {
    const day = `2031-${String(1 + Math.floor(Math.random() * 12)).padStart(2, "0")}-${crypto.randomUUID().slice(0, 4)}`;
    await run("cron", null, day);
    await expect(run("cron", null, day)).rejects.toThrow(/UNIQUE constraint failed: payoutRuns\.cronDay/);
    await run("cron", null, `${day}-next`);
    await run("admin", "usr_admin", null);
    await run("admin", "usr_admin", null);
  });

  it("checks the trigger and its shape (cron has a day, admin an actor and no day)", async () => {
    await expect(run("manual", "usr_admin", null)).rejects.toThrow(/CHECK constraint failed/);
    await expect(run("cron", null, null)).rejects.toThrow(/payoutRuns_trigger_shape/);
    await expect(run("admin", "usr_admin", "2031-01-01")).rejects.toThrow(/payoutRuns_trigger_shape/);
    await expect(run("admin", null, null)).rejects.toThrow(/payoutRuns_trigger_shape/);
    await run("admin", "usr_admin", null);
  });

  it("keeps one account per tutor and one tutor per Stripe account", async () => {
    const account = (userId: string, stripeAccountId: string) =>
      env.DB.prepare("INSERT INTO payoutAccounts (userId, stripeAccountId, createdAt, updatedAt) VALUES (?, ?, 1, 1)")
        .bind(userId, stripeAccountId)
        .run();
    const tutor = newId("usr");
    const acct = `acct_${crypto.randomUUID()}`;
    await account(tutor, acct);
    await expect(account(tutor, `acct_${crypto.randomUUID()}`)).rejects.toThrow(
      /UNIQUE constraint failed: payoutAccounts\.userId/,
    );
    await expect(account(newId("usr"), acct)).rejects.toThrow(
      /UNIQUE constraint failed: payoutAccounts\.stripeAccountId/,
    );
    const row = await env.DB.prepare(
      "SELECT payoutsEnabled, detailsSubmitted, stateAsOf FROM payoutAccounts WHERE userId = ?",
    )
      .bind(tutor)
      .first();
    expect(row).toEqual({ payoutsEnabled: 0, detailsSubmitted: 0, stateAsOf: 0 });
  });
});
