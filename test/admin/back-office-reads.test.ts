/**
 * The back office's reads of one person or one lesson: a user by address (GET /v1/admin/users?email=),
 * a user's purchase orders and a session's ledger entries. Each is admin-only, answers problem+json
 * on bad input and reads its index (the plans are checked here by name, and every query's plan again
 * by test/setup.ts).
 */
import { describe, expect, it } from "vitest";
import type { OrderView, SessionLedgerView } from "../../src/modules/credits/schemas";
import { call, createUser, env, expectProblem, json, uniqueEmail } from "../helpers/api";
import { book, createSubject, createTutor, fund, HOUR, slotAt } from "../sessions/helpers";
import { callers, expectAdminOnly, expectIndex, insertOrder } from "./back-office-helpers";

type Page<T> = { items: T[]; nextCursor: string | null };

describe("GET /v1/admin/users?email=", () => {
  it("finds the one user of an address whatever its letter case, and is admin-only", async () => {
    const who = await callers();
    const email = uniqueEmail("Mixed");
    const user = await createUser("student", { email: email.toLowerCase() });
    await expectAdminOnly(`/v1/admin/users?email=${encodeURIComponent(email)}`, who);
    for (const spelling of [email, email.toUpperCase(), email.toLowerCase()]) {
      const res = await call(`/v1/admin/users?email=${encodeURIComponent(spelling)}`, { token: who.admin.token });
      const body = await json<Page<{ id: string; email: string }>>(res);
      expect(body.items.map((u) => u.id)).toEqual([user.id]);
      expect(body.nextCursor).toBeNull();
    }
    const none = await call(`/v1/admin/users?email=${encodeURIComponent(uniqueEmail("nobody"))}`, {
      token: who.admin.token,
    });
    expect(await json(none)).toEqual({ items: [], nextCursor: null });
    await expectIndex(/from "users" where \(?"users"\."email" = \?/i, "users_by_email");
  });

  it("keeps a context filter given too, and refuses a malformed address or cursor", async () => {
    const { admin } = await callers();
    const tutor = await createUser("tutor");
    const q = (s: string) => call(`/v1/admin/users?${s}`, { token: admin.token });
    const email = encodeURIComponent(tutor.email.toUpperCase());
    expect((await json<Page<{ id: string }>>(await q(`email=${email}&context=tutor`))).items.map((u) => u.id)).toEqual([
      tutor.id,
    ]);
    expect(await json(await q(`email=${email}&context=student`))).toEqual({ items: [], nextCursor: null });
    for (const bad of ["not-an-address", "a@", "@b.test", "", "a b@c.test"]) {
      await expectProblem(await q(`email=${encodeURIComponent(bad)}`), 400, "validation_failed");
    }
    await expectProblem(await q(`email=${email}&cursor=xyz`), 400, "validation_failed");
    await expectProblem(await q(`email=${email}&limit=0`), 400, "validation_failed");
  });
});

describe("GET /v1/admin/users/:id/orders", () => {
  it("is the user's own order list, newest first, over two pages", async () => {
    const who = await callers();
    const student = await createUser("student");
    const other = await createUser("student");
    const t0 = Date.now() - 10 * HOUR;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await insertOrder(student.id, { credits: 5, cents: 5000, createdAt: t0 + i }));
    ids.push(await insertOrder(student.id, { credits: 20, cents: 18000, createdAt: t0 + 3, completedAt: null }));
    await insertOrder(other.id, { credits: 5, cents: 5000, createdAt: t0 + 4 });
    await env.DB.prepare("UPDATE creditPurchaseOrders SET refundedCents = 2000, reversedCredits = 2 WHERE id = ?")
      .bind(ids[0])
      .run();
    await expectAdminOnly(`/v1/admin/users/${student.id}/orders`, who);

    const path = `/v1/admin/users/${student.id}/orders`;
    const first = await json<Page<OrderView>>(await call(`${path}?limit=3`, { token: who.admin.token }));
    expect(first.items.map((o) => o.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await json<Page<OrderView>>(
      await call(`${path}?limit=3&cursor=${first.nextCursor}`, { token: who.admin.token }),
    );
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    expect(second.items[0]).toMatchObject({ refundedCents: 2000, reversedCredits: 2, paymentIntentId: `pi_${ids[0]}` });
    expect(first.items[0]).toMatchObject({ status: "pending", completedAt: null, paymentIntentId: null });

    // exactly what the student sees on GET /v1/credits/orders
    const own = await json<Page<OrderView>>(await call("/v1/credits/orders?limit=10", { token: student.token }));
    expect([...first.items, ...second.items]).toEqual(own.items);
    await expectIndex(
      /from "creditPurchaseOrders" where \(?"creditPurchaseOrders"\."userId" = \?/i,
      "creditPurchaseOrders_by_user_and_createdAt",
    );
  });

  it("is 404 for an unknown user and 400 for a bad limit or cursor", async () => {
    const { admin } = await callers();
    const student = await createUser("student");
    await expectProblem(await call("/v1/admin/users/usr_unknown/orders", { token: admin.token }), 404, "not_found");
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=%21%21", `cursor=${btoa('["x"]')}`]) {
      await expectProblem(
        await call(`/v1/admin/users/${student.id}/orders?${q}`, { token: admin.token }),
        400,
        "validation_failed",
      );
    }
  });
});

describe("GET /v1/admin/sessions/:id/ledger", () => {
  const COST = 5;
  async function lesson() {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: COST });
    const student = await createUser("student");
    await fund(student, 10);
    const res = await book(student, tutor, subject.id, slotAt(72), 60);
    expect(res.status).toBe(201);
    return { tutor, student, id: (await json<{ id: string }>(res)).id };
  }

  it("after a booking and a refunding cancellation: the debit and the refund, no earning", async () => {
    const who = await callers();
    const { student, id } = await lesson();
    const path = `/v1/admin/sessions/${id}/ledger`;
    await expectAdminOnly(path, who);
    const booked = await json<SessionLedgerView>(await call(path, { token: who.admin.token }));
    expect(booked).toEqual({
      credits: [
        expect.objectContaining({
          userId: student.id,
          type: "debit",
          amount: COST,
          source: "session_booking",
          sessionId: id,
        }),
      ],
      earnings: [],
    });
    expect((await call(`/v1/sessions/${id}/cancel`, { token: student.token, body: {} })).status).toBe(200);
    const cancelled = await json<SessionLedgerView>(await call(path, { token: who.admin.token }));
    expect(cancelled.credits.map((e) => [e.source, e.type, e.amount, e.balanceAfter])).toEqual([
      ["session_booking", "debit", COST, 5],
      ["session_refund", "credit", COST, 10],
    ]);
    expect(cancelled.earnings).toEqual([]);
    // each item is the student's own statement entry, plus its owner
    const own = await json<Page<Record<string, unknown>>>(await call("/v1/credits/ledger", { token: student.token }));
    for (const e of cancelled.credits) {
      const { userId, ...entry } = e;
      expect(userId).toBe(student.id);
      expect(own.items).toContainEqual(entry);
    }
    await expectIndex(/FROM creditsLedger WHERE sessionId = \?/, "creditsLedger_by_session");
  });

  it("after a settlement with a partial refund: the refund and the tutor's earning", async () => {
    const { admin } = await callers();
    const { tutor, student, id } = await lesson();
    const at = Date.now() - 5 * 60_000;
    await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
      .bind(at, at + HOUR, id)
      .run();
    for (const step of ["start", "complete"]) {
      expect((await call(`/v1/sessions/${id}/${step}`, { method: "POST", token: tutor.token })).status).toBe(200);
    }
    const resolved = await call(`/v1/admin/sessions/${id}/resolve`, {
      token: admin.token,
      body: { refundCredits: 2, note: "Half the lesson happened" },
    });
    expect(resolved.status).toBe(200);
    const body = await json<SessionLedgerView>(await call(`/v1/admin/sessions/${id}/ledger`, { token: admin.token }));
    expect(body.credits.map((e) => [e.userId, e.source, e.amount])).toEqual([
      [student.id, "session_booking", COST],
      [student.id, "session_refund", 2],
    ]);
    expect(body.earnings).toEqual([
      expect.objectContaining({
        userId: tutor.id,
        type: "credit",
        source: "session_earning",
        sessionId: id,
        amountCents: (COST - 2) * 800,
        payoutId: null,
      }),
    ]);
    const { userId, ...entry } = body.earnings[0] ?? { userId: "" };
    const own = await json<Page<unknown>>(await call("/v1/me/earnings/ledger", { token: tutor.token }));
    expect(own.items).toContainEqual(entry);
    await expectIndex(/FROM earningsLedger WHERE sessionId = \?/, "earningsLedger_one_earning_per_session");
  });

  it("is 404 for an unknown session and 400 for a bad id", async () => {
    const { admin } = await callers();
    await expectProblem(await call("/v1/admin/sessions/ses_unknown/ledger", { token: admin.token }), 404, "not_found");
    await expectProblem(
      await call(`/v1/admin/sessions/${"x".repeat(101)}/ledger`, { token: admin.token }),
      400,
      "validation_failed",
    );
  });
});
