/**
 * The back office's overviews: credits sold per calendar day of a time zone (GET
 * /v1/admin/stats/credits-sold) and the tutors the next payout run would pay (GET
 * /v1/admin/payouts/due), checked against what POST /v1/admin/payouts/run then pays.
 */
import { describe, expect, it } from "vitest";
import type { CreditsSoldView } from "../../src/modules/credits/schemas";
import type { PayoutsDueView } from "../../src/modules/payouts/schemas";
import { earnLate, enablePayouts } from "../earnings/payout-world";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { serverNow } from "../helpers/clock";
import { earn, payoutOf, payoutTutor } from "../payouts/helpers";
import { createSubject, createTutor, DAY, fund } from "../sessions/helpers";
import { callers, expectAdminOnly, expectIndex, insertOrder, plansOf } from "./back-office-helpers";

const at = (iso: string) => Date.parse(iso);

describe("GET /v1/admin/stats/credits-sold", () => {
  // New York's DST starts on Sunday 2026-03-08 (02:00 EST → 03:00 EDT): the 8th is 23 hours long.
  const from = at("2026-03-07T05:00:00Z"); // 2026-03-07 00:00 EST
  const to = at("2026-03-11T04:00:00Z"); // 2026-03-11 00:00 EDT
  const stats = async (token: string, query: string) =>
    json<CreditsSoldView>(await call(`/v1/admin/stats/credits-sold?${query}`, { token }));

  it("groups by the zone's calendar day across midnight and DST, lists zero days, totals per currency", async () => {
    const who = await callers();
    const buyer = await createUser("student");
    // 23:30 EST on the 7th is already the 8th in UTC
    await insertOrder(buyer.id, { credits: 5, cents: 5000, completedAt: at("2026-03-08T04:30:00Z") });
    // 00:30 EST on the 8th
    await insertOrder(buyer.id, { credits: 20, cents: 18000, completedAt: at("2026-03-08T05:30:00Z") });
    // 00:30 EDT on the 9th: a fixed −05:00 would put it on the 8th
    await insertOrder(buyer.id, { credits: 5, cents: 4500, currency: "eur", completedAt: at("2026-03-09T04:30:00Z") });
    // outside [from, to), or never paid
    await insertOrder(buyer.id, { credits: 5, cents: 5000, completedAt: from - 1 });
    await insertOrder(buyer.id, { credits: 5, cents: 5000, completedAt: to });
    await insertOrder(buyer.id, { credits: 5, cents: 5000, createdAt: from + DAY, completedAt: null });

    const query = `from=${from}&to=${to}&timezone=America/New_York`;
    await expectAdminOnly(`/v1/admin/stats/credits-sold?${query}`, who);
    expect(await stats(who.admin.token, query)).toEqual({
      timezone: "America/New_York",
      from,
      to,
      days: [
        { date: "2026-03-07", orders: 1, credits: 5 },
        { date: "2026-03-08", orders: 1, credits: 20 },
        { date: "2026-03-09", orders: 1, credits: 5 },
        { date: "2026-03-10", orders: 0, credits: 0 },
      ],
      totals: {
        orders: 3,
        credits: 30,
        amounts: [
          { currency: "eur", cents: 4500 },
          { currency: "usd", cents: 23000 },
        ],
      },
    });
    // the same orders in UTC (the default zone): the range's last 4 hours make a fifth, partial day
    const utc = await stats(who.admin.token, `from=${from}&to=${to}`);
    expect(utc.timezone).toBe("UTC");
    expect(utc.days).toEqual([
      { date: "2026-03-07", orders: 0, credits: 0 },
      { date: "2026-03-08", orders: 2, credits: 25 },
      { date: "2026-03-09", orders: 1, credits: 5 },
      { date: "2026-03-10", orders: 0, credits: 0 },
      { date: "2026-03-11", orders: 0, credits: 0 },
    ]);
    // gross: a refund later leaves the day as it was
    await env.DB.prepare(
      "UPDATE creditPurchaseOrders SET refundedCents = totalCents, reversedCredits = totalCredits WHERE userId = ?",
    )
      .bind(buyer.id)
      .run();
    expect((await stats(who.admin.token, query)).totals.credits).toBe(30);
    await expectIndex(
      /FROM creditPurchaseOrders WHERE completedAt >= \? AND completedAt < \? AND status/,
      "creditPurchaseOrders_by_completedAt",
    );
  });

  it("defaults to the last 30 days ending now (server clock), every day present", async () => {
    const { admin } = await callers();
    const before = await serverNow();
    const body = await stats(admin.token, "");
    const after = await serverNow();
    expect(body.to).toBeGreaterThan(before);
    expect(body.to).toBeLessThanOrEqual(after + 1);
    expect(body.to - body.from).toBe(30 * DAY);
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(body.days[0]?.date).toBe(day(body.from));
    expect(body.days.at(-1)?.date).toBe(day(body.to - 1));
    const dates = body.days.map((d) => Date.parse(`${d.date}T00:00:00Z`));
    for (let i = 1; i < dates.length; i++) expect((dates[i] ?? 0) - (dates[i - 1] ?? 0)).toBe(DAY);
  });

  it("refuses an empty, reversed or too long range, an unknown zone and malformed times", async () => {
    const { admin } = await callers();
    for (const q of [
      `from=${from}&to=${from}`,
      `from=${to}&to=${from}`,
      `from=${from}&to=${from + 31 * DAY + 1}`,
      "timezone=Mars/Olympus",
      "timezone=",
      "timezone=../etc",
      "from=abc",
      "to=1e3",
      "from=-5",
    ]) {
      await expectProblem(
        await call(`/v1/admin/stats/credits-sold?${q}`, { token: admin.token }),
        400,
        "validation_failed",
      );
    }
    // exactly 31 days is allowed
    expect(
      (await call(`/v1/admin/stats/credits-sold?from=${from}&to=${from + 31 * DAY}`, { token: admin.token })).status,
    ).toBe(200);
  });
});

describe("GET /v1/admin/payouts/due", () => {
  async function allDue(token: string, limit: number) {
    const items: PayoutsDueView["items"] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(`/v1/admin/payouts/due?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token });
      expect(res.status).toBe(200);
      const body = await json<PayoutsDueView>(res);
      expect(body.minimumCents).toBe(2000);
      items.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    return { items, pages };
  }

  it("lists exactly the tutors the next run pays, with what it pays each, paged by user id", async () => {
    const who = await callers();
    const subject = await createSubject();
    const withProfile = await createTutor(subject.id, { price: 3 });
    const student = await createUser("student");
    await fund(student, 3);
    await earnLate(student, withProfile, subject.id, 72); // 3 credits × 800 cents
    await enablePayouts(withProfile.id);
    const atMinimum = await payoutTutor(2000);
    const rich = await payoutTutor(5000);
    await payoutTutor(1999);
    await payoutTutor(5000, { enabled: false });
    const busy = await payoutTutor(0);
    await payoutOf(busy, 3000, Date.now());
    await earn(busy.id, 2500); // waits for its pending payout

    await expectAdminOnly("/v1/admin/payouts/due", who);
    const { items, pages } = await allDue(who.admin.token, 2);
    expect(pages).toBe(2);
    const expected = [
      {
        userId: withProfile.id,
        tutorProfileId: withProfile.tutorProfileId,
        displayName: "Tess Tutor",
        balanceCents: 2400,
      },
      { userId: atMinimum.id, tutorProfileId: null, displayName: null, balanceCents: 2000 },
      { userId: rich.id, tutorProfileId: null, displayName: null, balanceCents: 5000 },
    ]
      .map((d) => ({ ...d, currency: "usd" }))
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
    expect(items).toEqual(expected);

    const run = await call("/v1/admin/payouts/run", {
      method: "POST",
      token: who.admin.token,
      headers: { "idempotency-key": `due-${withProfile.id}` },
    });
    expect(run.status).toBe(202);
    const { runId } = await json<{ runId: string }>(run);
    const paid = await env.DB.prepare("SELECT userId, amountCents FROM payouts WHERE runId = ? ORDER BY userId")
      .bind(runId)
      .all<{ userId: string; amountCents: number }>();
    expect(paid.results).toEqual(expected.map((d) => ({ userId: d.userId, amountCents: d.balanceCents })));
    // once paid (pending), nobody is due until they earn again
    expect((await allDue(who.admin.token, 100)).items).toEqual([]);

    await expectIndex(/^SELECT a\.userId, \(SELECT e\.balanceAfterCents/, "payoutAccounts_enabled_by_user");
    for (const plan of await plansOf(/^SELECT a\.userId, \(SELECT e\.balanceAfterCents/)) {
      const text = plan.join("\n");
      expect(text).toMatch(/INDEX earningsLedger_by_user_and_seq/);
      expect(text).toMatch(/INDEX tutorProfiles_by_user/);
      expect(text).toMatch(/INDEX payouts_one_pending_per_user/);
    }
  });

  it("refuses a bad limit or cursor", async () => {
    const { admin } = await callers();
    for (const q of ["limit=0", "limit=101", "cursor=%21", `cursor=${btoa("[1]")}`, `cursor=${btoa('["a","b"]')}`]) {
      await expectProblem(await call(`/v1/admin/payouts/due?${q}`, { token: admin.token }), 400, "validation_failed");
    }
  });
});
