/**
 * `npm run demo`: walks the whole product journey against the running `npm run dev` stack (found
 * through .wrangler/dev/stack.json) and prints each step. It needs every provider emulated.
 * API_URL and EMULATOR_URL (default http://127.0.0.1:8787 and :8789) point it at other servers.
 * JSON calls go through the typed SDK (sdkAs: one client per user), as an integrator's would; the
 * recording upload (a raw audio body) and the emulator's pages use plain HTTP.
 */
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import { ALL_WEEK, Client, poll, QUARTER, rand, wav } from "../tools/offline/client.ts";
import { findDevStack } from "../tools/offline/dev-state.ts";
import { PROVIDER_NAMES, PROVIDERS } from "../tools/offline/vars.ts";
import { accountJourney } from "./demo-account.ts";
import { backOfficeJourney } from "./demo-admin.ts";
import { lifecycleJourney } from "./demo-lifecycle.ts";
import { payoutsJourney } from "./demo-payouts.ts";
import { reportsJourney } from "./demo-reports.ts";
import { reviewsJourney } from "./demo-reviews.ts";
import { schedulingJourney } from "./demo-scheduling.ts";
import { sdkAs } from "./demo-sdk.ts";
import { subscribeReceiver, webhooksJourney } from "./demo-webhooks.ts";

const stack = findDevStack();
const api = stack.apiUrl;
const emu = stack.emulatorUrl ?? "";
const ADMIN = stack.adminEmail;
const c = new Client(api, emu);
let n = 0;
const step = (msg: string, detail?: unknown) => {
  n += 1;
  console.log(`\n${String(n).padStart(2, " ")}. ${msg}`);
  if (detail !== undefined) {
    const text = typeof detail === "string" ? detail : JSON.stringify(detail, null, 2);
    console.log(text.replace(/^/gm, "      "));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const real = PROVIDERS.filter((p) => !stack.emulated.includes(p));
  if (real.length > 0) {
    console.error(
      `The demo drives every provider through the emulator; this stack uses real ${real.map((p) => PROVIDER_NAMES[p]).join(", ")}: run npm run dev:offline.`,
    );
    process.exit(1);
  }
  try {
    unwrap(await sdkAs(c).GET("/v1/health"));
    await c.emulator("/__control/health");
  } catch (err) {
    console.error(
      `Cannot reach the API at ${api} and the emulator at ${emu}: start them with npm run dev.\n${(err as Error).message}`,
    );
    process.exit(1);
  }
  console.log(`tutorloop demo against ${api} (emulator ${emu})`);
  const tag = rand();

  const admin = await c.login(ADMIN);
  step(`Admin ${ADMIN} logged in with the code from the emulator inbox`, { context: admin.user.context });
  if (admin.user.context !== "admin") throw new Error(`${ADMIN} is not an admin: is ADMIN_EMAILS set?`);
  const receiver = await subscribeReceiver({ c, step, admin, tag });

  const asAdmin = sdkAs(c, admin);
  const subject = unwrap(
    await asAdmin.POST("/v1/admin/subjects", { body: { name: `Algebra ${tag}`, slug: `algebra-${tag}` } }),
  );
  step("Admin created a subject", subject);

  const tutorEmail = `tess.${tag}@example.com`;
  const tutorLogin = await c.login(tutorEmail);
  const asApplicant = sdkAs(c, tutorLogin);
  const profile = unwrap(
    await asApplicant.POST("/v1/me/tutor-profile", {
      body: {
        displayName: `Tess ${tag}`,
        bio: "Maths tutor, patient and precise.",
        subjectIds: [subject.id],
        hourlyCreditsPrice: 2,
      },
    }),
  );
  const tutor: typeof tutorLogin = unwrap(await asApplicant.POST("/v1/me/context", { body: { context: "tutor" } }));
  const asTutor = sdkAs(c, tutor);
  step(`Tutor ${tutorEmail} logged in, created a tutor profile and switched to the tutor context`, {
    tutorProfileId: profile.id,
    context: tutor.user.context,
  });

  unwrap(await asTutor.PUT("/v1/me/tutor-profile/availability", { body: ALL_WEEK }));
  step("Tutor set availability: every day 00:00–24:00 UTC");

  // TUTOR_APPROVAL_REQUIRED (default true): a new profile waits for an admin, unlisted and unbookable
  const own = unwrap(await asTutor.GET("/v1/me/tutor-profile"));
  const hidden = await sdkAs(c).GET("/v1/tutors/{id}", { params: { path: { id: profile.id } } });
  step("The new profile waits for approval: the public page answers 404", {
    status: own.status,
    publicPage: hidden.response.status,
  });
  if (own.status !== "approved") {
    const queue = unwrap(
      await asAdmin.GET("/v1/admin/tutors", { params: { query: { status: "pending", limit: 100 } } }),
    );
    const approved = unwrap(
      await asAdmin.POST("/v1/admin/tutors/{id}/status", {
        params: { path: { id: profile.id } },
        body: { status: "approved" },
      }),
    );
    const notice = unwrap(await asTutor.GET("/v1/notifications"));
    step("Admin found the profile in GET /v1/admin/tutors?status=pending and approved it; the tutor was notified", {
      inQueue: queue.items.some((t) => t.id === profile.id),
      status: approved.status,
      notification: notice.items.find((x) => x.type === "tutor_status_changed"),
    });
  }

  const studentEmail = `sam.${tag}@example.com`;
  const student = await c.login(studentEmail);
  const asStudent = sdkAs(c, student);
  step(`Student ${studentEmail} logged in`, { userId: student.user.id, context: student.user.context });

  const found = unwrap(await asStudent.GET("/v1/tutors", { params: { query: { subject: subject.slug } } }));
  step(
    `Student found the tutor under /v1/tutors?subject=${subject.slug}`,
    found.items.map((t) => t.displayName),
  );

  const packs = unwrap(await asStudent.GET("/v1/credits/packs"));
  const pack = packs.items[0];
  if (!pack) throw new Error("no credit packs configured");
  const checkout = unwrap(
    await asStudent.POST("/v1/credits/checkout", {
      params: { header: idempotencyKey(`demo-checkout-${tag}`) },
      body: { packId: pack.id },
    }),
  );
  step(`Student started a checkout for ${pack.credits} credits (${pack.priceCents / 100} ${pack.currency})`, checkout);

  const paid = await c.checkoutAction(checkout.checkoutUrl, "pay");
  step(
    "Student clicked Pay on the emulator's hosted checkout page: a signed checkout.session.completed went to the webhook",
    {
      event: paid.event,
      webhook: paid.delivery,
    },
  );
  const balance = await poll("the credits to arrive", 20_000, async () => {
    const b = unwrap(await asStudent.GET("/v1/credits/balance"));
    return b.balance >= pack.credits ? b.balance : undefined;
  });
  step(`Credits arrived through the queue: balance ${balance}`);

  // the next 15-minute boundary: startable right away (start is allowed from 15 minutes before)
  const now = Date.now();
  const from = Math.ceil((now + 20_000) / QUARTER) * QUARTER;
  const slots = unwrap(
    await asStudent.GET("/v1/tutors/{id}/slots", {
      params: {
        path: { id: profile.id },
        query: { from, to: from + 4 * 3600_000, durationMinutes: 60 },
      },
    }),
  );
  // booked a little later than the earliest slot, then moved by the tutor to the earliest one
  const [earliest, slot] = slots.items;
  if (!earliest || !slot)
    throw new Error("no slots offered: is BOOKING_MIN_NOTICE_MINUTES 0 (npm run dev sets it unless .dev.vars does)?");
  const booked = unwrap(
    await asStudent.POST("/v1/sessions", {
      params: { header: idempotencyKey(`demo-${tag}`) },
      body: { tutorProfileId: profile.id, subjectId: subject.id, startTime: slot.startTime, durationMinutes: 60 },
    }),
  );
  step(`Student booked the session at ${new Date(slot.startTime).toISOString()} (60 min)`, {
    id: booked.id,
    status: booked.status,
    creditsCost: booked.creditsCost,
  });

  // the tutor may move a lesson until its start (a student until RESCHEDULE_WINDOW_HOURS before)
  const session = unwrap(
    await asTutor.POST("/v1/sessions/{id}/reschedule", {
      params: { path: { id: booked.id }, header: idempotencyKey(`demo-move-${tag}`) },
      body: { startTime: earliest.startTime },
    }),
  );
  const moved = unwrap(await asStudent.GET("/v1/notifications"));
  step(`Tutor rescheduled it to ${new Date(session.startTime).toISOString()} (same cost, no ledger line, same room)`, {
    startTime: session.startTime,
    rescheduledAt: session.rescheduledAt,
    creditsCost: session.creditsCost,
    studentNotified: moved.items.find((n) => n.type === "session_rescheduled")?.data,
  });

  const studentJoin = await poll("the video room", 30_000, async () => {
    const r = await asStudent.GET("/v1/sessions/{id}/join", { params: { path: { id: session.id } } });
    return r.response.status === 200 ? r.data : undefined;
  });
  const tutorJoin = unwrap(await asTutor.GET("/v1/sessions/{id}/join", { params: { path: { id: session.id } } }));
  step("The Agora room was created; both joined", { student: studentJoin, tutor: tutorJoin });

  for (;;) {
    const r = await asTutor.POST("/v1/sessions/{id}/start", { params: { path: { id: session.id } } });
    if (r.response.status === 200) break;
    if (r.response.status === 409 && session.startTime - Date.now() > QUARTER - 60_000) {
      console.log("    (waiting a few seconds: sessions can be started from 15 minutes before their start)");
      await sleep(2000);
      continue;
    }
    throw new Error(`start: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  step("Tutor started the session (in_progress)");

  const audio = wav(2);
  const upload = await c.ok<{ id: string; transcriptionStatus: string }>(
    `/v1/sessions/${session.id}/recording`,
    { method: "PUT", token: tutor.accessToken, raw: audio, headers: { "content-type": "audio/wav" } },
    202,
  );
  step(`Tutor uploaded the recording (${audio.byteLength} bytes of audio/wav)`, upload);

  const recording = await poll("the transcript", 30_000, async () => {
    const r = unwrap(await asStudent.GET("/v1/sessions/{id}/recording", { params: { path: { id: session.id } } }));
    if (r.transcriptionStatus === "failed") throw new Error(`transcription failed: ${r.transcriptionError}`);
    return r.transcriptionStatus === "completed" ? r : undefined;
  });
  step("Deepgram (emulated) called back with the transcript", {
    transcriptionMeta: recording.transcriptionMeta,
    transcriptionText: recording.transcriptionText,
  });

  await reportsJourney({ c, step, student, tutor, sessionId: session.id });

  unwrap(await asTutor.POST("/v1/sessions/{id}/complete", { params: { path: { id: session.id } } }));
  step("Tutor completed the session");

  await reviewsJourney({
    c,
    step,
    student,
    tutor,
    tutorProfileId: profile.id,
    subjectSlug: subject.slug,
    sessionId: session.id,
  });

  const notes = unwrap(await asStudent.GET("/v1/notifications"));
  const unread = unwrap(await asStudent.GET("/v1/notifications/unread-count"));
  const readAll = await asStudent.POST("/v1/notifications/read-all");
  if (readAll.response.status !== 204) throw new Error(`read-all: HTTP ${readAll.response.status}`);
  const after = unwrap(await asStudent.GET("/v1/notifications/unread-count"));
  step(
    `Student read the notifications (${unread.count} unread → ${after.count})`,
    notes.items.map((i) => i.type),
  );

  // Money after the fact: a refund to the card, then a chargeback that the platform wins.
  const balanceNow = async () => unwrap(await asStudent.GET("/v1/credits/balance")).balance;
  const before = await balanceNow();
  const refunded = unwrap(
    await asAdmin.POST("/v1/admin/credits/orders/{id}/refund", {
      params: { path: { id: checkout.orderId }, header: idempotencyKey(`demo-refund-${rand()}`) },
      body: { credits: 1 },
    }),
  );
  step("Admin refunded 1 credit of the order to the card (reversal first, then Stripe's POST /v1/refunds)", {
    refundedCents: refunded.refundedCents,
    reversedCredits: refunded.reversedCredits,
    balance: `${before} → ${await balanceNow()}`,
  });
  const { dispute } = await c.emulator<{ dispute: { id: string; amount: number } }>("/__control/stripe/dispute", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ checkoutSessionId: checkout.checkoutSessionId }),
  });
  const disputedBalance = await poll("the dispute to reverse the credits", 20_000, async () => {
    const b = await balanceNow();
    return b < before - 1 ? b : undefined;
  });
  step(
    `The bank disputed the payment (charge.dispute.created): the order's other credits were reversed, balance ${disputedBalance}${disputedBalance < 0 ? " (negative: they were already spent, so booking is blocked until a purchase)" : ""}`,
    { dispute: dispute.id },
  );
  await c.emulator(`/__control/stripe/disputes/${dispute.id}/close`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: "won" }),
  });
  const wonBalance = await poll("the won dispute to reinstate the credits", 20_000, async () => {
    const b = await balanceNow();
    return b === before - 1 ? b : undefined;
  });
  step(`The dispute was won (charge.dispute.closed): the credits were reinstated once, balance ${wonBalance}`);
  const rec = unwrap(await asAdmin.GET("/v1/admin/reconciliation"));
  step(`Admin reconciliation: balanced ${rec.balanced}`, rec.credits);

  const ledger = unwrap(await asStudent.GET("/v1/credits/ledger"));
  step(
    "Student's ledger (newest first)",
    ledger.items.map((e) => `${e.type} ${e.amount} (${e.source}) → ${e.balanceAfter}`),
  );

  await lifecycleJourney({
    c,
    apiUrl: api,
    step,
    admin,
    student,
    tutor,
    tutorProfileId: profile.id,
    subjectId: subject.id,
    sessionId: session.id,
    tag,
  });

  const mails = await c.emulator<{ items: { subject: string }[] }>(
    `/inbox.json?to=${encodeURIComponent(studentEmail)}`,
  );
  step(
    `E-mails to the student in the emulator inbox (${emu}/inbox)`,
    mails.items.map((m) => m.subject),
  );

  await schedulingJourney({ c, step, admin, student, tutor, tutorProfileId: profile.id, subjectId: subject.id });

  await accountJourney({ c, step, admin, student, tutor, tutorProfileId: profile.id, subjectId: subject.id });

  await payoutsJourney({ c, step, admin, tutor, tag });

  await backOfficeJourney({ c, step, admin, adminEmail: ADMIN, emulatorUrl: emu });

  await webhooksJourney({ c, step, admin, tag }, receiver);

  console.log(
    "\nDemo complete: a tutor approved by an admin, a lesson report reviewed, regenerated and published by its tutor, a 5-star review ranking the tutor, a settled lesson and the tutor's earnings, no-shows both ways, a resolved lesson dispute, booking rules, a time off, a weekly series in the calendar feeds, a refund to the card, a won dispute, the audit log, a data export, a closed account, the tutor onboarded to Stripe Connect and paid, the back office's dashboard, and every event of it delivered to a signed webhook endpoint.",
  );
}

main().catch((err) => {
  console.error(`\nDemo failed: ${(err as Error).message}`);
  process.exit(1);
});
