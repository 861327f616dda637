/**
 * A world with data in every table that holds user data: a student (logged in through a code, so
 * with a refresh token) with future bookings, a past lesson with its recording, transcript, report
 * and Deepgram callback, an order with a card refund and its Stripe event; a tutor; and another
 * student of the same tutor whose data must never leak or change.
 */
import { newId } from "../../src/lib/crypto";
import { insertOtp, login, type TokenPair } from "../auth/helpers";
import { call, createUser, env, json, type TestUser } from "../helpers/api";
import { book, createSubject, createTutor, DAY, fund, HOUR, slotAt, type Tutor } from "../sessions/helpers";

export interface LoggedIn extends TestUser {
  refreshToken: string;
}

export const asTestUser = (pair: TokenPair): LoggedIn => ({
  id: pair.user.id,
  email: pair.user.email,
  context: pair.user.context,
  studentProfileId: pair.user.studentProfileId,
  tutorProfileId: pair.user.tutorProfileId,
  token: pair.accessToken,
  refreshToken: pair.refreshToken,
});

export interface Booked {
  id: string;
  creditsCost: number;
}

async function booked(res: Response): Promise<Booked> {
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  return json<Booked>(res);
}

export interface AccountWorld {
  subject: { id: string; slug: string };
  tutor: Tutor;
  student: LoggedIn;
  other: TestUser;
  /** The student's future sessions: one in two days, one in two hours (inside the cancellation window). */
  future: Booked[];
  otherFuture: Booked;
  past: { id: string; recordingId: string; s3Key: string; reportId: string; webhookId: string };
  orderId: string;
  transcript: string;
}

const uniqueAddress = (tag: string) => `${tag}.${crypto.randomUUID().slice(0, 8)}@example.test`;

export async function accountWorld(): Promise<AccountWorld> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = asTestUser(await login(uniqueAddress("closing")));
  const other = await createUser("student");
  await fund(student, 20);
  await fund(other, 20);
  const future = [
    await booked(await book(student, tutor, subject.id, slotAt(48), 60)),
    await booked(await book(student, tutor, subject.id, slotAt(2), 90)),
  ];
  const otherFuture = await booked(await book(other, tutor, subject.id, slotAt(72), 60));
  const pastBooking = await booked(await book(student, tutor, subject.id, slotAt(96), 60));
  const past = await pastLesson(pastBooking.id, `Transcript ${crypto.randomUUID()}: we practised fractions.`);
  const orderId = await orderWithRefund(student.id);
  // a login code still on file for the address
  await insertOtp(student.email);
  return { subject, tutor, student, other, future, otherFuture, past, orderId, transcript: past.transcript };
}

/** Moves a booked session into the past, completed, with audio in R2, a transcript and a report. */
async function pastLesson(sessionId: string, transcript: string) {
  const start = Date.now() - 3 * DAY;
  const recordingId = newId("rec");
  const s3Key = `recordings/${sessionId}/${recordingId}`;
  const reportId = newId("rpt");
  const webhookId = newId("dgw");
  await env.BUCKET.put(s3Key, new TextEncoder().encode("AUDIO:past-lesson"));
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("UPDATE sessions SET status = 'completed', startTime = ?, endTime = ? WHERE id = ?").bind(
      start,
      start + HOUR,
      sessionId,
    ),
    env.DB.prepare(
      "INSERT INTO sessionRecordings (id, sessionId, s3Key, transcriptionStatus, transcriptionText, transcriptionMeta, callbackSecretHash, createdAt, updatedAt) VALUES (?, ?, ?, 'completed', ?, ?, 'secret-hash', ?, ?)",
    ).bind(recordingId, sessionId, s3Key, transcript, JSON.stringify({ confidence: 0.9, language: "en" }), now, now),
    env.DB.prepare(
      "INSERT INTO lessonReports (id, sessionId, studentProfileId, tutorProfileId, summary, topicsCovered, nextSteps, rawTranscript, status, publishedAt, createdAt) SELECT ?, id, studentProfileId, tutorProfileId, 'Fractions', '[\"fractions\"]', '[\"decimals\"]', ?, 'published', ?, ? FROM sessions WHERE id = ?",
    ).bind(reportId, transcript, now, now, sessionId),
    env.DB.prepare(
      "INSERT INTO deepgramWebhooks (id, sessionRecordingId, requestId, eventType, payload, processedAt) VALUES (?, ?, 'dg_req', 'transcription_complete', ?, ?)",
    ).bind(
      webhookId,
      recordingId,
      JSON.stringify({ results: { channels: [{ alternatives: [{ transcript }] }] } }),
      now,
    ),
  ]);
  return { id: sessionId, recordingId, s3Key, reportId, webhookId, transcript };
}

async function orderWithRefund(userId: string) {
  const orderId = newId("ord");
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO creditPurchaseOrders (id, userId, packId, stripeCheckoutSessionId, stripePaymentIntentId, totalCredits, totalCents, currency, status, completedAt, refundedCents, createdAt, updatedAt) VALUES (?, ?, 'pack_5', ?, ?, 5, 5000, 'usd', 'completed', ?, 1000, ?, ?)",
    ).bind(orderId, userId, `cs_${orderId}`, `pi_${orderId}`, now, now, now),
    env.DB.prepare(
      "INSERT INTO cardRefunds (id, orderId, idempotencyKey, amountCents, credits, reason, status, actorUserId, createdAt, updatedAt) VALUES (?, ?, ?, 1000, 1, 'admin', 'succeeded', 'usr_some_admin', ?, ?)",
    ).bind(newId("crf"), orderId, `refund-key-${orderId}`, now, now),
    env.DB.prepare(
      "INSERT INTO stripeEvents (id, type, orderId, receivedAt, processedAt, outcome) VALUES (?, 'checkout.session.completed', ?, ?, ?, 'credited')",
    ).bind(`evt_${orderId}`, orderId, now, now),
  ]);
  return orderId;
}

export const closeAccount = (token: string) => call("/v1/me", { method: "DELETE", token });

export async function ledgerOf(userId: string) {
  return (
    await env.DB.prepare("SELECT * FROM creditsLedger WHERE userId = ? ORDER BY seq").bind(userId).all<{
      id: string;
      seq: number;
      source: string;
      sessionId: string | null;
      amount: number;
      balanceAfter: number;
    }>()
  ).results;
}

export async function sessionRow(id: string) {
  return env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(id).first<{
    status: string;
    cancelledBy: string | null;
    cancellationReason: string | null;
    refunded: number;
  }>();
}
