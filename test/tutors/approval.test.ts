/**
 * Tutor approval (API.md "Tutor approval", issue 16): a new profile starts `pending` under the
 * default TUTOR_APPROVAL_REQUIRED=true; admins list profiles by status and change it through
 * POST /v1/admin/tutors/:id/status (notification, e-mail, audit row); a tutor who is not approved is
 * invisible and unbookable everywhere while their booked sessions keep working.
 *
 * The suite's Worker binds TUTOR_APPROVAL_REQUIRED="false"; creation under the default goes through
 * the Worker called with these bindings and "true" (as test/http/rate-limit.test.ts does).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import {
  call,
  createUser,
  env,
  eventually,
  expectProblem,
  fakeRequests,
  json,
  type TestUser,
  tokenFor,
} from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { balanceOf, book, createSubject, createTutor, fund, HOUR, slotAt } from "../sessions/helpers";

/** One object, so the config parsed for it is reused. */
const defaultEnv = { ...env, TUTOR_APPROVAL_REQUIRED: "true" } as Env;

interface Profile {
  id: string;
  status: string;
  statusReason: string | null;
  statusChangedAt: number | null;
}

/** A user who creates a tutor profile through the Worker run with the default (approval required). */
async function createPendingTutor(subjectId: string) {
  const user = await createUser("student");
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("http://api.test/v1/me/tutor-profile", {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        displayName: "Pat Pending",
        bio: "New here",
        subjectIds: [subjectId],
        hourlyCreditsPrice: 2,
      }),
    }),
    defaultEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  expect(res.status).toBe(201);
  return { user, profile: await json<Profile>(res) };
}

const setStatus = (admin: TestUser, id: string, body: unknown) =>
  call(`/v1/admin/tutors/${id}/status`, { token: admin.token, body });

async function walk(admin: TestUser, status: string, limit: number) {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/v1/admin/tutors?status=${status}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      token: admin.token,
    });
    expect(res.status).toBe(200);
    const page = await json<{ items: Profile[]; nextCursor: string | null }>(res);
    for (const p of page.items) expect(p.status).toBe(status);
    out.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const directoryIds = async (path: string) => {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page: { items: { id: string }[]; nextCursor: string | null } = await json(
      await call(`${path}${sep}limit=100${cursor ? `&cursor=${cursor}` : ""}`),
    );
    out.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
};

describe("tutor approval", () => {
  it("a new profile starts pending under the default, approved with TUTOR_APPROVAL_REQUIRED=false", async () => {
    const subject = await createSubject();
    const { profile } = await createPendingTutor(subject.id);
    expect(profile).toMatchObject({ status: "pending", statusReason: null });
    const approved = await createTutor(subject.id);
    const own = await json<Profile>(await call("/v1/me/tutor-profile", { token: approved.token }));
    expect(own.status).toBe("approved");
  });

  it("lists by status: pending oldest first, paged without duplicates; approved newest first", async () => {
    const subject = await createSubject();
    const admin = await createUser("admin");
    const mine: string[] = [];
    for (let i = 0; i < 4; i++) mine.push((await createPendingTutor(subject.id)).profile.id);
    const pending = await walk(admin, "pending", 1);
    expect(new Set(pending).size).toBe(pending.length);
    expect(pending.filter((id) => mine.includes(id))).toEqual(mine);
    for (const id of mine.slice(0, 3)) expect((await setStatus(admin, id, { status: "approved" })).status).toBe(200);
    const approved = await walk(admin, "approved", 2);
    expect(new Set(approved).size).toBe(approved.length);
    expect(approved.filter((id) => mine.includes(id))).toEqual(mine.slice(0, 3).reverse());
    expect((await walk(admin, "pending", 50)).filter((id) => mine.includes(id))).toEqual(mine.slice(3));
    // the default status is pending
    const byDefault = await json<{ items: Profile[] }>(
      await call("/v1/admin/tutors?limit=100", { token: admin.token }),
    );
    expect(byDefault.items.every((p) => p.status === "pending")).toBe(true);
  });

  it("a change: 200 profile, in-app notification, escaped e-mail and audit row; a repeat changes nothing", async () => {
    const subject = await createSubject();
    const admin = await createUser("admin");
    const { user, profile } = await createPendingTutor(subject.id);
    const res = await setStatus(admin, profile.id, { status: "approved" });
    expect(res.status).toBe(200);
    const approved = await json<Profile>(res);
    expect(approved).toMatchObject({ id: profile.id, status: "approved", statusReason: null });
    expect(approved.statusChangedAt).toEqual(expect.any(Number));

    const notices = async () =>
      (
        await json<{ items: { type: string; data: Record<string, unknown> }[] }>(
          await call("/v1/notifications", { token: user.token }),
        )
      ).items.filter((n) => n.type === "tutor_status_changed");
    expect((await notices()).map((n) => n.data)).toEqual([
      { tutorProfileId: profile.id, status: "approved", reason: null },
    ]);
    await eventually(async () => {
      const mails = await fakeRequests("/emails", user.email);
      return mails.find((m) => JSON.parse(m.body).subject === "Your tutor profile is approved");
    });
    const audit = async () =>
      (
        await json<{ items: { action: string; actorUserId: string; details: Record<string, unknown> }[] }>(
          await call(`/v1/admin/audit-log?targetId=${profile.id}`, { token: admin.token }),
        )
      ).items;
    expect(await audit()).toEqual([
      expect.objectContaining({
        action: "tutor.status",
        actorUserId: admin.id,
        targetType: "tutor_profile",
        details: { previousStatus: "pending", status: "approved", reason: null },
      }),
    ]);

    // the same status again: 200, no second notification or audit row
    const again = await setStatus(admin, profile.id, { status: "approved", reason: "again" });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ status: "approved", statusReason: null });
    expect(await notices()).toHaveLength(1);
    expect(await audit()).toHaveLength(1);
    expect(await eventTypesOf(profile.id)).toEqual(["tutor.status_changed"]);

    // a reason reaches the tutor, escaped in the HTML
    const reason = 'Missing <b>ID</b> & "diploma"';
    const suspended = await json<Profile>(await setStatus(admin, profile.id, { status: "suspended", reason }));
    expect(suspended).toMatchObject({ status: "suspended", statusReason: reason });
    expect((await notices())[0]?.data).toEqual({ tutorProfileId: profile.id, status: "suspended", reason });
    const mail = await eventually(async () =>
      (await fakeRequests("/emails", user.email)).find(
        (m) => JSON.parse(m.body).subject === "Your tutor profile is suspended",
      ),
    );
    const html = JSON.parse(mail.body).html as string;
    expect(html).toContain("Missing &lt;b&gt;ID&lt;/b&gt; &amp; &quot;diploma&quot;");
    expect(html).not.toContain("<b>ID");
    const own = await json<Profile>(await call("/v1/me/tutor-profile", { token: await tokenFor(user.id, "tutor") }));
    expect(own).toMatchObject({ status: "suspended", statusReason: reason });
  });

  it("authorization and bad input: anonymous 401, student and tutor 403, unknown 404, bad body 400", async () => {
    const subject = await createSubject();
    const admin = await createUser("admin");
    const student = await createUser("student");
    const tutor = await createTutor(subject.id);
    const path = `/v1/admin/tutors/${tutor.tutorProfileId}/status`;
    await expectProblem(await call("/v1/admin/tutors"), 401, "unauthorized");
    await expectProblem(await call(path, { body: { status: "approved" } }), 401, "unauthorized");
    for (const token of [student.token, tutor.token]) {
      await expectProblem(await call("/v1/admin/tutors", { token }), 403, "forbidden");
      await expectProblem(await call(path, { token, body: { status: "suspended" } }), 403, "forbidden");
    }
    await expectProblem(await setStatus(admin, "tut_nope", { status: "approved" }), 404, "not_found");
    for (const body of [
      {},
      { status: "pending" },
      { status: "banned" },
      { status: "rejected", reason: "x".repeat(501) },
      { status: "rejected", reason: "" },
      { status: "rejected", extra: 1 },
    ]) {
      await expectProblem(await setStatus(admin, tutor.tutorProfileId, body), 400, "validation_failed");
    }
    await expectProblem(await call("/v1/admin/tutors?status=gone", { token: admin.token }), 400, "validation_failed");
    await expectProblem(await call("/v1/admin/tutors?cursor=zzz", { token: admin.token }), 400, "validation_failed");
    // nothing changed
    const own = await json<Profile>(await call("/v1/me/tutor-profile", { token: tutor.token }));
    expect(own.status).toBe("approved");
    // a reason of exactly 500 characters is fine
    const ok = await setStatus(admin, tutor.tutorProfileId, { status: "rejected", reason: "y".repeat(500) });
    expect(ok.status).toBe(200);
  });

  it("a closed account's profile cannot be approved or rejected (409); suspending it again is a no-op", async () => {
    const subject = await createSubject();
    const admin = await createUser("admin");
    const tutor = await createTutor(subject.id);
    expect((await call("/v1/me", { method: "DELETE", token: tutor.token })).status).toBe(204);
    for (const status of ["approved", "rejected"]) {
      await expectProblem(await setStatus(admin, tutor.tutorProfileId, { status }), 409, "conflict");
    }
    const same = await setStatus(admin, tutor.tutorProfileId, { status: "suspended", reason: "x" });
    expect(same.status).toBe(200);
    expect(await json(same)).toMatchObject({ status: "suspended", statusReason: "account_closed" });
    await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}`), 404, "not_found");
  });
});

describe("a tutor who is not approved", () => {
  it("is invisible and unbookable on every path, while their booked sessions keep working; re-approval relists", async () => {
    const subject = await createSubject();
    const admin = await createUser("admin");
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 20);
    const booked: string[] = [];
    for (const hours of [48, 50, 52]) {
      const res = await book(student, tutor, subject.id, slotAt(hours));
      expect(res.status).toBe(201);
      booked.push((await json<{ id: string }>(res)).id);
    }
    const [toCancel, toMove, toStart] = booked as [string, string, string];
    const other = await createUser("student");
    await fund(other, 20);
    const from = slotAt(24);
    const slug = subject.slug;

    const tutorVisible = async () => {
      const all = await directoryIds("/v1/tutors");
      const bySubject = await directoryIds(`/v1/tutors?subject=${slug}`);
      return [all.includes(tutor.tutorProfileId), bySubject.includes(tutor.tutorProfileId)];
    };
    expect(await tutorVisible()).toEqual([true, true]);

    for (const [status, reason] of [
      ["suspended", "Complaints under review"],
      ["rejected", null],
    ] as const) {
      const res = await setStatus(admin, tutor.tutorProfileId, reason ? { status, reason } : { status });
      expect(res.status).toBe(200);
      expect(await tutorVisible()).toEqual([false, false]);
      // the page: 404 to anyone else, shown to the tutor and admins
      await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}`), 404, "not_found");
      await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}`, { token: student.token }), 404, "not_found");
      await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}`, { token: "not-a-token" }), 404, "not_found");
      for (const token of [tutor.token, admin.token]) {
        const seen = await call(`/v1/tutors/${tutor.tutorProfileId}`, { token });
        expect(seen.status).toBe(200);
        expect(await json(seen)).toMatchObject({ id: tutor.tutorProfileId });
      }
      await expectProblem(
        await call(`/v1/tutors/${tutor.tutorProfileId}/slots?from=${from}&to=${from + 24 * HOUR}`),
        404,
        "not_found",
      );
      await expectProblem(await book(other, tutor, subject.id, slotAt(30)), 404, "not_found");
      await expectProblem(
        await call("/v1/sessions/series", {
          token: other.token,
          body: {
            tutorProfileId: tutor.tutorProfileId,
            subjectId: subject.id,
            startTime: slotAt(30),
            durationMinutes: 60,
            count: 3,
          },
        }),
        404,
        "not_found",
      );
      // moving a booked lesson onto the tutor's calendar is refused like a booking (409 slot_unavailable)
      for (const token of [student.token, tutor.token]) {
        await expectProblem(
          await call(`/v1/sessions/${toMove}/reschedule`, { token, body: { startTime: slotAt(60) } }),
          409,
          "slot_unavailable",
        );
      }
      // the booked sessions stay, and both participants still read them
      for (const token of [student.token, tutor.token]) {
        const s = await call(`/v1/sessions/${toMove}`, { token });
        expect(await json(s)).toMatchObject({ status: "scheduled" });
      }
    }
    expect(await balanceOf(other.token)).toBe(20);

    // existing sessions keep working: cancel with refund, start, join's answer, complete
    const before = await balanceOf(student.token);
    const cancelled = await call(`/v1/sessions/${toCancel}/cancel`, { token: student.token, body: {} });
    expect(await json(cancelled)).toMatchObject({ status: "cancelled", refunded: true });
    expect(await balanceOf(student.token)).toBe(before + 1);
    const soon = Date.now() + 10 * 60_000;
    await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
      .bind(soon, soon + HOUR, toStart)
      .run();
    const started = await call(`/v1/sessions/${toStart}/start`, { method: "POST", token: tutor.token });
    expect(await json(started)).toMatchObject({ status: "in_progress" });
    const join = await call(`/v1/sessions/${toStart}/join`, { token: student.token });
    // the room is created by a job: either its link or "not ready yet", never a refusal of the tutor
    expect([200, 503]).toContain(join.status);
    const done = await call(`/v1/sessions/${toStart}/complete`, { method: "POST", token: tutor.token });
    expect(await json(done)).toMatchObject({ status: "completed" });

    // approved again: listed, bookable, movable
    expect((await setStatus(admin, tutor.tutorProfileId, { status: "approved" })).status).toBe(200);
    expect(await tutorVisible()).toEqual([true, true]);
    expect((await call(`/v1/tutors/${tutor.tutorProfileId}`)).status).toBe(200);
    expect((await book(other, tutor, subject.id, slotAt(30))).status).toBe(201);
    const moved = await call(`/v1/sessions/${toMove}/reschedule`, {
      token: student.token,
      body: { startTime: slotAt(60) },
    });
    expect(moved.status).toBe(200);
  });
});
