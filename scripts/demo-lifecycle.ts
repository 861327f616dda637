/**
 * The demo's lesson-lifecycle part, on the development test clock and the cron (wrangler's
 * scheduled-handler URL): the completed lesson is held, then settled after the hold and paid into
 * the tutor's earnings; a tutor no-show is refunded at once; a student no-show is disputed and an
 * admin splits it. The clock is reset at the end, so the rest of the demo runs in real time.
 */
import { type Client, poll, QUARTER, type Tokens } from "../tools/offline/client.ts";

export interface LifecycleDemo {
  c: Client;
  apiUrl: string;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  student: Tokens;
  tutor: Tokens;
  tutorProfileId: string;
  subjectId: string;
  /** The lesson the demo held and completed. */
  sessionId: string;
  tag: string;
}

interface Lesson {
  id: string;
  startTime: number;
  endTime: number;
  status: string;
  noShow: string | null;
  settlementStatus: string;
  refundedCredits: number;
  earnedCredits: number;
  tutorEarningsCents: number;
}

const HOUR = 3600_000;

export async function lifecycleJourney(d: LifecycleDemo) {
  const { c, step, admin, student, tutor } = d;
  const serverNow = async () => (await c.ok<{ now: number }>("/v1/dev/clock")).now;
  const advanceTo = async (at: number) => {
    const ms = at - (await serverNow());
    if (ms > 0) await c.ok("/v1/dev/clock", { body: { advanceMs: ms } });
  };
  const cron = async () => {
    const r = await fetch(`${d.apiUrl}/cdn-cgi/local/scheduled`);
    if (!r.ok) throw new Error(`cron: HTTP ${r.status}`);
  };
  const lesson = (id: string) => c.ok<Lesson>(`/v1/sessions/${id}`, { token: student.accessToken });
  const earnings = () =>
    c.ok<{ balanceCents: number; pendingCents: number; currency: string }>("/v1/me/earnings", {
      token: tutor.accessToken,
    });
  const money = (l: Lesson) =>
    `${l.status}, ${l.settlementStatus}: ${l.refundedCredits} back to the student, ${l.earnedCredits} earned (${l.tutorEarningsCents} cents)`;

  const held = await lesson(d.sessionId);
  step("The completed lesson's credits are held (settlement open) for the hold period", {
    lesson: money(held),
    tutorEarnings: await earnings(),
  });

  await c.ok(
    "/v1/admin/credits/adjustments",
    {
      token: admin.accessToken,
      body: { userId: student.user.id, type: "credit", amount: 4, description: "Credits for two more lessons" },
      headers: { "idempotency-key": `demo-lifecycle-${d.tag}` },
    },
    201,
  );
  const t0 = Math.ceil(((await serverNow()) + 2 * HOUR) / QUARTER) * QUARTER;
  const bookAt = (startTime: number, key: string) =>
    c.ok<Lesson>(
      "/v1/sessions",
      {
        token: student.accessToken,
        body: { tutorProfileId: d.tutorProfileId, subjectId: d.subjectId, startTime, durationMinutes: 60 },
        headers: { "idempotency-key": `demo-${key}-${d.tag}` },
      },
      201,
    );
  const missedByTutor = await bookAt(t0, "tutor-no-show");
  const missedByStudent = await bookAt(t0 + 2 * HOUR, "student-no-show");
  step("Student got 4 credits from the admin and booked two more lessons", [
    new Date(missedByTutor.startTime).toISOString(),
    new Date(missedByStudent.startTime).toISOString(),
  ]);

  await advanceTo(missedByTutor.startTime + 20 * 60_000);
  const tutorNoShow = await c.ok<Lesson>(`/v1/sessions/${missedByTutor.id}/no-show`, {
    token: student.accessToken,
    body: { party: "tutor" },
  });
  step(
    "Test clock: 20 minutes into the first lesson, the tutor never came; the student reported it",
    money(tutorNoShow),
  );

  await advanceTo(missedByStudent.startTime + 20 * 60_000);
  const studentNoShow = await c.ok<Lesson>(`/v1/sessions/${missedByStudent.id}/no-show`, {
    token: tutor.accessToken,
    body: { party: "student" },
  });
  step("Test clock: 20 minutes into the second lesson, the tutor reported a student no-show", money(studentNoShow));
  const disputed = await c.ok<Lesson>(`/v1/sessions/${missedByStudent.id}/dispute`, {
    token: student.accessToken,
    body: { reason: "I was in the room; the tutor's video never loaded." },
  });
  const queue = await c.ok<{ items: { id: string }[] }>("/v1/admin/sessions?settlementStatus=disputed", {
    token: admin.accessToken,
  });
  step("The student disputed it; the back office lists it under ?settlementStatus=disputed", {
    lesson: money(disputed),
    inTheList: queue.items.some((x) => x.id === missedByStudent.id),
  });
  const resolved = await c.ok<Lesson>(`/v1/admin/sessions/${missedByStudent.id}/resolve`, {
    token: admin.accessToken,
    body: { refundCredits: 1, note: "Both sides had trouble: half refunded." },
    headers: { "idempotency-key": `demo-resolve-${d.tag}` },
  });
  step("Admin resolved the dispute with 1 of 2 credits back (audited)", money(resolved));

  await advanceTo(held.endTime + 49 * HOUR);
  await cron();
  const settled = await poll("the settlement sweep", 60_000, async () => {
    const l = await lesson(d.sessionId);
    return l.settlementStatus === "settled" ? l : undefined;
  });
  step("Test clock: 49 hours after the lesson; the cron's settlement sweep paid the tutor", money(settled));

  const ledger = await c.ok<{ items: { source: string; amountCents: number; balanceAfterCents: number }[] }>(
    "/v1/me/earnings/ledger",
    { token: tutor.accessToken },
  );
  step("Tutor's earnings and earnings ledger (newest first)", {
    earnings: await earnings(),
    ledger: ledger.items.map((e) => `${e.source} +${e.amountCents} → ${e.balanceAfterCents}`),
  });
  const rec = await c.ok<{ balanced: boolean }>("/v1/admin/reconciliation", { token: admin.accessToken });
  await c.ok("/v1/dev/clock", { body: { reset: true } });
  step(`Admin reconciliation over both ledgers: balanced ${rec.balanced}; the test clock is reset`);
}
