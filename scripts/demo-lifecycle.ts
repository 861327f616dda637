/**
 * The demo's lesson-lifecycle part, on the development test clock and the cron (wrangler's
 * scheduled-handler URL): the completed lesson is held, then settled after the hold and paid into
 * the tutor's earnings; a tutor no-show is refunded at once; a student no-show is disputed and an
 * admin splits it. The clock is reset at the end, so the rest of the demo runs in real time.
 * Every API call goes through the typed SDK; the cron is wrangler's own URL.
 */
import { type components, idempotencyKey, unwrap } from "../sdk/src/index.ts";
import { type Client, poll, QUARTER, type Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

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

/** The session fields a money line shows, as the SDK types them. */
type Lesson = Pick<
  components["schemas"]["Session"],
  "status" | "settlementStatus" | "refundedCredits" | "earnedCredits" | "tutorEarningsCents"
>;

const HOUR = 3600_000;

export async function lifecycleJourney(d: LifecycleDemo) {
  const { c, step, admin, student, tutor } = d;
  const [asAdmin, asStudent, asTutor, anyone] = [sdkAs(c, admin), sdkAs(c, student), sdkAs(c, tutor), sdkAs(c)];
  const id = (sessionId: string) => ({ params: { path: { id: sessionId } } });
  const serverNow = async () => unwrap(await anyone.GET("/v1/dev/clock")).now;
  const advanceTo = async (at: number) => {
    const ms = at - (await serverNow());
    if (ms > 0) unwrap(await anyone.POST("/v1/dev/clock", { body: { advanceMs: ms } }));
  };
  const cron = async () => {
    const r = await fetch(`${d.apiUrl}/cdn-cgi/local/scheduled`);
    if (!r.ok) throw new Error(`cron: HTTP ${r.status}`);
  };
  const lesson = async (sessionId: string) => unwrap(await asStudent.GET("/v1/sessions/{id}", id(sessionId)));
  const earnings = async () => unwrap(await asTutor.GET("/v1/me/earnings"));
  const money = (l: Lesson) =>
    `${l.status}, ${l.settlementStatus}: ${l.refundedCredits} back to the student, ${l.earnedCredits} earned (${l.tutorEarningsCents} cents)`;

  const held = await lesson(d.sessionId);
  step("The completed lesson's credits are held (settlement open) for the hold period", {
    lesson: money(held),
    tutorEarnings: await earnings(),
  });

  unwrap(
    await asAdmin.POST("/v1/admin/credits/adjustments", {
      params: { header: idempotencyKey(`demo-lifecycle-${d.tag}`) },
      body: { userId: student.user.id, type: "credit", amount: 4, description: "Credits for two more lessons" },
    }),
  );
  const t0 = Math.ceil(((await serverNow()) + 2 * HOUR) / QUARTER) * QUARTER;
  const bookAt = async (startTime: number, key: string) =>
    unwrap(
      await asStudent.POST("/v1/sessions", {
        params: { header: idempotencyKey(`demo-${key}-${d.tag}`) },
        body: { tutorProfileId: d.tutorProfileId, subjectId: d.subjectId, startTime, durationMinutes: 60 },
      }),
    );
  const missedByTutor = await bookAt(t0, "tutor-no-show");
  const missedByStudent = await bookAt(t0 + 2 * HOUR, "student-no-show");
  step("Student got 4 credits from the admin and booked two more lessons", [
    new Date(missedByTutor.startTime).toISOString(),
    new Date(missedByStudent.startTime).toISOString(),
  ]);

  await advanceTo(missedByTutor.startTime + 20 * 60_000);
  const tutorNoShow = unwrap(
    await asStudent.POST("/v1/sessions/{id}/no-show", { ...id(missedByTutor.id), body: { party: "tutor" } }),
  );
  step(
    "Test clock: 20 minutes into the first lesson, the tutor never came; the student reported it",
    money(tutorNoShow),
  );

  await advanceTo(missedByStudent.startTime + 20 * 60_000);
  const studentNoShow = unwrap(
    await asTutor.POST("/v1/sessions/{id}/no-show", { ...id(missedByStudent.id), body: { party: "student" } }),
  );
  step("Test clock: 20 minutes into the second lesson, the tutor reported a student no-show", money(studentNoShow));
  const disputed = unwrap(
    await asStudent.POST("/v1/sessions/{id}/dispute", {
      ...id(missedByStudent.id),
      body: { reason: "I was in the room; the tutor's video never loaded." },
    }),
  );
  const queue = unwrap(
    await asAdmin.GET("/v1/admin/sessions", { params: { query: { settlementStatus: "disputed" } } }),
  );
  step("The student disputed it; the back office lists it under ?settlementStatus=disputed", {
    lesson: money(disputed),
    inTheList: queue.items.some((x) => x.id === missedByStudent.id),
  });
  const resolved = unwrap(
    await asAdmin.POST("/v1/admin/sessions/{id}/resolve", {
      params: { path: { id: missedByStudent.id }, header: idempotencyKey(`demo-resolve-${d.tag}`) },
      body: { refundCredits: 1, note: "Both sides had trouble: half refunded." },
    }),
  );
  step("Admin resolved the dispute with 1 of 2 credits back (audited)", money(resolved));

  await advanceTo(held.endTime + 49 * HOUR);
  await cron();
  const settled = await poll("the settlement sweep", 60_000, async () => {
    const l = await lesson(d.sessionId);
    return l.settlementStatus === "settled" ? l : undefined;
  });
  step("Test clock: 49 hours after the lesson; the cron's settlement sweep paid the tutor", money(settled));

  const ledger = unwrap(await asTutor.GET("/v1/me/earnings/ledger"));
  step("Tutor's earnings and earnings ledger (newest first)", {
    earnings: await earnings(),
    ledger: ledger.items.map((e) => `${e.source} +${e.amountCents} → ${e.balanceAfterCents}`),
  });
  const rec = unwrap(await asAdmin.GET("/v1/admin/reconciliation"));
  unwrap(await anyone.POST("/v1/dev/clock", { body: { reset: true } }));
  step(`Admin reconciliation over both ledgers: balanced ${rec.balanced}; the test clock is reset`);
}
