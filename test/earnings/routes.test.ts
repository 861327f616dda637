/** GET /v1/me/earnings and /v1/me/earnings/ledger: a tutor's balance, pending money and statement. */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { book, createSubject, createTutor, fund, HOUR, slotAt } from "../sessions/helpers";

interface Summary {
  balanceCents: number;
  pendingCents: number;
  currency: string;
  payoutsEnabled: boolean;
}
interface Entry {
  id: string;
  type: string;
  amountCents: number;
  balanceAfterCents: number;
  source: string;
  sessionId: string | null;
  payoutId: string | null;
  description: string;
  createdAt: number;
}

async function bookedWorld(sessions: number) {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = await createUser("student");
  await fund(student, 2 * sessions);
  const ids: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const res = await book(student, tutor, subject.id, slotAt(72 + 2 * i), 60);
    expect(res.status).toBe(201);
    ids.push((await json<{ id: string }>(res)).id);
  }
  return { tutor, student, ids };
}

/** A late student cancel: the tutor earns the whole cost at once (through the settling step). */
async function lateCancel(studentToken: string, id: string) {
  const start = slotAt(5);
  await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(start, start + HOUR, id)
    .run();
  const res = await call(`/v1/sessions/${id}/cancel`, { token: studentToken, body: {} });
  expect(await json(res)).toMatchObject({ status: "cancelled", refunded: false });
}

describe("GET /v1/me/earnings", () => {
  it("a new tutor has nothing; booked sessions are pending; a late cancel moves them to the balance", async () => {
    const { tutor, student, ids } = await bookedWorld(3);
    const summary = () => call("/v1/me/earnings", { token: tutor.token }).then((r) => json<Summary>(r));
    // 3 open sessions of 2 credits at 800 cents per credit
    expect(await summary()).toEqual({ balanceCents: 0, pendingCents: 4800, currency: "usd", payoutsEnabled: false });

    await lateCancel(student.token, ids[0] as string);
    expect(await summary()).toEqual({ balanceCents: 1600, pendingCents: 3200, currency: "usd", payoutsEnabled: false });

    // An early cancel refunds the student: nothing earned, no longer pending.
    const early = await call(`/v1/sessions/${ids[1]}/cancel`, { token: student.token, body: {} });
    expect(await json(early)).toMatchObject({ status: "cancelled", refunded: true });
    expect(await summary()).toMatchObject({ balanceCents: 1600, pendingCents: 1600 });
  });

  it("a legacy late cancellation still open (written before settlement) counts as pending", async () => {
    const { tutor, ids } = await bookedWorld(1);
    await env.DB.prepare(
      "UPDATE sessions SET status = 'cancelled', cancelledBy = 'student', cancelledAt = startTime - 3600000 WHERE id = ?",
    )
      .bind(ids[0])
      .run();
    const s = await json<Summary>(await call("/v1/me/earnings", { token: tutor.token }));
    expect(s).toMatchObject({ balanceCents: 0, pendingCents: 1600 });
  });

  it("is for tutors only: anonymous 401, a student 403", async () => {
    const student = await createUser("student");
    await expectProblem(await call("/v1/me/earnings"), 401, "unauthorized");
    await expectProblem(await call("/v1/me/earnings", { token: student.token }), 403, "forbidden");
    await expectProblem(await call("/v1/me/earnings/ledger"), 401, "unauthorized");
    await expectProblem(await call("/v1/me/earnings/ledger", { token: student.token }), 403, "forbidden");
  });
});

describe("GET /v1/me/earnings/ledger", () => {
  it("lists the tutor's own entries newest first, paged by seq; another tutor sees none of them", async () => {
    const { tutor, student, ids } = await bookedWorld(3);
    for (const id of ids) await lateCancel(student.token, id);

    const first = await json<{ items: Entry[]; nextCursor: string | null }>(
      await call("/v1/me/earnings/ledger?limit=2", { token: tutor.token }),
    );
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(first.items[0]).toEqual({
      id: expect.any(String),
      type: "credit",
      amountCents: 1600,
      balanceAfterCents: 4800,
      source: "session_earning",
      sessionId: ids[2],
      payoutId: null,
      description: expect.any(String),
      createdAt: expect.any(Number),
    });
    expect(first.items[1]).toMatchObject({ balanceAfterCents: 3200, sessionId: ids[1] });
    const rest = await json<{ items: Entry[]; nextCursor: string | null }>(
      await call(`/v1/me/earnings/ledger?limit=2&cursor=${first.nextCursor}`, { token: tutor.token }),
    );
    expect(rest.items.map((e) => [e.sessionId, e.balanceAfterCents])).toEqual([[ids[0], 1600]]);
    expect(rest.nextCursor).toBeNull();

    const other = await createTutor((await createSubject()).id);
    const none = await json<{ items: Entry[] }>(await call("/v1/me/earnings/ledger", { token: other.token }));
    expect(none.items).toEqual([]);
  });

  it("bad paging input is a 400, not a 500", async () => {
    const tutor = await createTutor((await createSubject()).id);
    await expectProblem(await call("/v1/me/earnings/ledger?limit=0", { token: tutor.token }), 400, "validation_failed");
    await expectProblem(
      await call("/v1/me/earnings/ledger?limit=101", { token: tutor.token }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/me/earnings/ledger?cursor=notacursor", { token: tutor.token }),
      400,
      "validation_failed",
    );
  });
});
