/**
 * `npm run demo`: walks the whole product journey against the running `npm run dev` stack (found
 * through .wrangler/dev/stack.json) and prints each step. It needs every provider emulated.
 * API_URL and EMULATOR_URL (default http://127.0.0.1:8787 and :8789) point it at other servers.
 */
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
    await c.ok("/v1/health");
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

  const subject = await c.ok<{ id: string; name: string; slug: string }>(
    "/v1/admin/subjects",
    { token: admin.accessToken, body: { name: `Algebra ${tag}`, slug: `algebra-${tag}` } },
    201,
  );
  step("Admin created a subject", subject);

  const tutorEmail = `tess.${tag}@example.com`;
  const tutorLogin = await c.login(tutorEmail);
  const profile = await c.ok<{ id: string }>(
    "/v1/me/tutor-profile",
    {
      token: tutorLogin.accessToken,
      body: {
        displayName: `Tess ${tag}`,
        bio: "Maths tutor, patient and precise.",
        subjectIds: [subject.id],
        hourlyCreditsPrice: 2,
      },
    },
    201,
  );
  const tutor = await c.ok<typeof tutorLogin>("/v1/me/context", {
    token: tutorLogin.accessToken,
    body: { context: "tutor" },
  });
  step(`Tutor ${tutorEmail} logged in, created a tutor profile and switched to the tutor context`, {
    tutorProfileId: profile.id,
    context: tutor.user.context,
  });

  await c.ok("/v1/me/tutor-profile/availability", { method: "PUT", token: tutor.accessToken, body: ALL_WEEK });
  step("Tutor set availability: every day 00:00–24:00 UTC");

  // TUTOR_APPROVAL_REQUIRED (default true): a new profile waits for an admin, unlisted and unbookable
  const own = await c.ok<{ status: string }>("/v1/me/tutor-profile", { token: tutor.accessToken });
  const hidden = await c.call(`/v1/tutors/${profile.id}`);
  step("The new profile waits for approval: the public page answers 404", {
    status: own.status,
    publicPage: hidden.status,
  });
  if (own.status !== "approved") {
    const queue = await c.ok<{ items: { id: string }[] }>("/v1/admin/tutors?status=pending&limit=100", {
      token: admin.accessToken,
    });
    const approved = await c.ok<{ status: string; statusChangedAt: number }>(`/v1/admin/tutors/${profile.id}/status`, {
      token: admin.accessToken,
      body: { status: "approved" },
    });
    const notice = await c.ok<{ items: { type: string; data: unknown }[] }>("/v1/notifications", {
      token: tutor.accessToken,
    });
    step("Admin found the profile in GET /v1/admin/tutors?status=pending and approved it; the tutor was notified", {
      inQueue: queue.items.some((t) => t.id === profile.id),
      status: approved.status,
      notification: notice.items.find((x) => x.type === "tutor_status_changed"),
    });
  }

  const studentEmail = `sam.${tag}@example.com`;
  const student = await c.login(studentEmail);
  step(`Student ${studentEmail} logged in`, { userId: student.user.id, context: student.user.context });

  const found = await c.ok<{ items: { id: string; displayName: string }[] }>(`/v1/tutors?subject=${subject.slug}`);
  step(
    `Student found the tutor under /v1/tutors?subject=${subject.slug}`,
    found.items.map((t) => t.displayName),
  );

  const packs = await c.ok<{ items: { id: string; credits: number; priceCents: number; currency: string }[] }>(
    "/v1/credits/packs",
  );
  const pack = packs.items[0];
  if (!pack) throw new Error("no credit packs configured");
  const checkout = await c.ok<{ orderId: string; checkoutSessionId: string; checkoutUrl: string }>(
    "/v1/credits/checkout",
    { token: student.accessToken, body: { packId: pack.id } },
    201,
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
    const b = await c.ok<{ balance: number }>("/v1/credits/balance", { token: student.accessToken });
    return b.balance >= pack.credits ? b.balance : undefined;
  });
  step(`Credits arrived through the queue: balance ${balance}`);

  // the next 15-minute boundary: startable right away (start is allowed from 15 minutes before)
  const now = Date.now();
  const from = Math.ceil((now + 20_000) / QUARTER) * QUARTER;
  const slots = await c.ok<{ items: { startTime: number; endTime: number }[] }>(
    `/v1/tutors/${profile.id}/slots?from=${from}&to=${from + 4 * 3600_000}&durationMinutes=60`,
  );
  // booked a little later than the earliest slot, then moved by the tutor to the earliest one
  const [earliest, slot] = slots.items;
  if (!earliest || !slot)
    throw new Error("no slots offered: is BOOKING_MIN_NOTICE_MINUTES 0 (npm run dev sets it unless .dev.vars does)?");
  const booked = await c.ok<{ id: string; status: string; creditsCost: number; startTime: number }>(
    "/v1/sessions",
    {
      token: student.accessToken,
      body: { tutorProfileId: profile.id, subjectId: subject.id, startTime: slot.startTime, durationMinutes: 60 },
      headers: { "idempotency-key": `demo-${tag}` },
    },
    201,
  );
  step(`Student booked the session at ${new Date(slot.startTime).toISOString()} (60 min)`, {
    id: booked.id,
    status: booked.status,
    creditsCost: booked.creditsCost,
  });

  // the tutor may move a lesson until its start (a student until RESCHEDULE_WINDOW_HOURS before)
  const session = await c.ok<{ id: string; startTime: number; rescheduledAt: number | null; creditsCost: number }>(
    `/v1/sessions/${booked.id}/reschedule`,
    {
      token: tutor.accessToken,
      body: { startTime: earliest.startTime },
      headers: { "idempotency-key": `demo-move-${tag}` },
    },
  );
  const moved = await c.ok<{ items: { type: string; data: Record<string, unknown> }[] }>("/v1/notifications", {
    token: student.accessToken,
  });
  step(`Tutor rescheduled it to ${new Date(session.startTime).toISOString()} (same cost, no ledger line, same room)`, {
    startTime: session.startTime,
    rescheduledAt: session.rescheduledAt,
    creditsCost: session.creditsCost,
    studentNotified: moved.items.find((n) => n.type === "session_rescheduled")?.data,
  });

  const studentJoin = await poll("the video room", 30_000, async () => {
    const r = await c.call<{ url: string; role: string }>(`/v1/sessions/${session.id}/join`, {
      token: student.accessToken,
    });
    return r.status === 200 ? r.body : undefined;
  });
  const tutorJoin = await c.ok<{ url: string; role: string }>(`/v1/sessions/${session.id}/join`, {
    token: tutor.accessToken,
  });
  step("The Agora room was created; both joined", { student: studentJoin, tutor: tutorJoin });

  for (;;) {
    const r = await c.call(`/v1/sessions/${session.id}/start`, { method: "POST", token: tutor.accessToken });
    if (r.status === 200) break;
    if (r.status === 409 && session.startTime - Date.now() > QUARTER - 60_000) {
      console.log("    (waiting a few seconds: sessions can be started from 15 minutes before their start)");
      await sleep(2000);
      continue;
    }
    throw new Error(`start: ${r.status} ${r.text}`);
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
    const r = await c.call<{
      transcriptionStatus: string;
      transcriptionText?: string;
      transcriptionMeta?: unknown;
      transcriptionError?: string;
    }>(`/v1/sessions/${session.id}/recording`, { token: student.accessToken });
    if (r.body.transcriptionStatus === "failed") throw new Error(`transcription failed: ${r.body.transcriptionError}`);
    return r.body.transcriptionStatus === "completed" ? r.body : undefined;
  });
  step("Deepgram (emulated) called back with the transcript", {
    transcriptionMeta: recording.transcriptionMeta,
    transcriptionText: recording.transcriptionText,
  });

  await reportsJourney({ c, step, student, tutor, sessionId: session.id });

  await c.ok(`/v1/sessions/${session.id}/complete`, { method: "POST", token: tutor.accessToken });
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

  const notes = await c.ok<{ items: { type: string; read: boolean }[] }>("/v1/notifications", {
    token: student.accessToken,
  });
  const unread = await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: student.accessToken });
  await c.ok("/v1/notifications/read-all", { method: "POST", token: student.accessToken }, 204);
  const after = await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: student.accessToken });
  step(
    `Student read the notifications (${unread.count} unread → ${after.count})`,
    notes.items.map((i) => i.type),
  );

  // Money after the fact: a refund to the card, then a chargeback that the platform wins.
  const balanceNow = async () =>
    (await c.ok<{ balance: number }>("/v1/credits/balance", { token: student.accessToken })).balance;
  const before = await balanceNow();
  const refunded = await c.ok<{ refundedCents: number; reversedCredits: number }>(
    `/v1/admin/credits/orders/${checkout.orderId}/refund`,
    { token: admin.accessToken, body: { credits: 1 }, headers: { "idempotency-key": `demo-refund-${rand()}` } },
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
  const rec = await c.ok<{ balanced: boolean; credits: Record<string, number> }>("/v1/admin/reconciliation", {
    token: admin.accessToken,
  });
  step(`Admin reconciliation: balanced ${rec.balanced}`, rec.credits);

  const ledger = await c.ok<{ items: { type: string; amount: number; balanceAfter: number; source: string }[] }>(
    "/v1/credits/ledger",
    {
      token: student.accessToken,
    },
  );
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
