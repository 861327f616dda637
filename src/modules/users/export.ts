/**
 * `GET /v1/me/export`: everything stored about the caller, as one JSON document, for data-access
 * requests. Every table that holds user data (docs/data-model.md) is read through an index that
 * starts with the caller's id, profile id, e-mail or order ids, in keyset pages.
 *
 * Size: nothing is capped. The document is streamed — written section by section while the pages
 * are read — so a user with tens of thousands of rows costs memory for one page, not for the
 * document. The pages are read one after the other, not in one transaction: a row written while the
 * export runs may or may not be in it. A failure halfway ends the stream early; the document is then
 * invalid JSON, never a complete-looking partial one.
 *
 * Left out on purpose: secrets (refresh-token and login-code hashes, the Deepgram callback secret
 * hash, the video rooms' pass phrases — the caller gets their own link from `/join`), copies that
 * hold nothing new (Deepgram callback payloads repeat the transcript that is in `recordings`;
 * idempotency records repeat responses and expire after 25 hours; rate-limit events expire after an
 * hour), and other people's identities (which admin acted).
 */

import { type AnyColumn, and, asc, eq, inArray, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import type { Db } from "../../db/client";
import {
  adminAuditLog,
  cardRefunds,
  creditPurchaseOrders,
  creditsLedger,
  earningsLedger,
  lessonReports,
  notifications,
  otpCodes,
  payoutAccounts,
  payouts,
  refreshTokens,
  sessionRecordings,
  stripeEvents,
  studentProfiles,
  users,
} from "../../db/schema";
import type { SessionRow } from "../sessions/access";
import { keysetPages, PAGE_SIZE, type SessionRole, sessionPages } from "./account-pages";
import { schedulingOf, tutorProfileOf } from "./export-profile";
import { reviewPages } from "./export-reviews";

export const EXPORT_FORMAT = "tutorloop.export.v1";

/** `(select value from json_each(?))`: a page of ids as one bound parameter. */
const idsOf = (ids: readonly string[]): SQL => sql`(select value from json_each(${JSON.stringify(ids)}))`;

/** A (createdAt, id) keyset bound: the index range after the row `last`. */
const after = (createdAt: AnyColumn, id: AnyColumn, last: { createdAt: number; id: string } | undefined) =>
  last ? sql`(${createdAt}, ${id}) > (${last.createdAt}, ${last.id})` : undefined;

/** A session as the export shows it: every stored field but the video rooms' pass phrases. */
function exportedSession({ agoraHostPassPhrase: _host, agoraViewerPassPhrase: _viewer, ...rest }: SessionRow) {
  return rest;
}

/** The profile's sessions, each with its recordings (metadata and transcript, never audio) and report. */
async function* sessionsWithDetails(db: Db, role: SessionRole, profileId: string | null) {
  if (!profileId) return;
  for await (const page of sessionPages(db, role, profileId)) {
    const ids = page.map((s) => s.id);
    const [recordings, reports] = await db.batch([
      db
        .select({
          id: sessionRecordings.id,
          sessionId: sessionRecordings.sessionId,
          transcriptionStatus: sessionRecordings.transcriptionStatus,
          transcriptionText: sessionRecordings.transcriptionText,
          transcriptionMeta: sessionRecordings.transcriptionMeta,
          transcriptionError: sessionRecordings.transcriptionError,
          deepgramRequestId: sessionRecordings.deepgramRequestId,
          uploadCount: sessionRecordings.uploadCount,
          createdAt: sessionRecordings.createdAt,
          updatedAt: sessionRecordings.updatedAt,
        })
        .from(sessionRecordings)
        .where(inArray(sessionRecordings.sessionId, idsOf(ids))),
      // the student has a report once it is published (as GET /v1/reports); the tutor's drafts are theirs
      db
        .select()
        .from(lessonReports)
        .where(
          and(
            inArray(lessonReports.sessionId, idsOf(ids)),
            role === "student" ? eq(lessonReports.status, "published") : undefined,
          ),
        ),
    ]);
    yield page.map((s) => ({
      ...exportedSession(s),
      recordings: recordings.filter((r) => r.sessionId === s.id),
      report: reports.find((r) => r.sessionId === s.id) ?? null,
    }));
  }
}

/** The credit statement in chain order, on `creditsLedger_by_user_and_seq`. */
const ledgerPages = (db: Db, userId: string) =>
  keysetPages<typeof creditsLedger.$inferSelect>(PAGE_SIZE, (last) =>
    db
      .select()
      .from(creditsLedger)
      .where(and(eq(creditsLedger.userId, userId), last && sql`${creditsLedger.seq} > ${last.seq}`))
      .orderBy(asc(creditsLedger.seq))
      .limit(PAGE_SIZE),
  );

/** The tutor's earnings statement in chain order, on `earningsLedger_by_user_and_seq`. */
const earningsPages = (db: Db, userId: string) =>
  keysetPages<typeof earningsLedger.$inferSelect>(PAGE_SIZE, (last) =>
    db
      .select()
      .from(earningsLedger)
      .where(and(eq(earningsLedger.userId, userId), last && sql`${earningsLedger.seq} > ${last.seq}`))
      .orderBy(asc(earningsLedger.seq))
      .limit(PAGE_SIZE),
  );

/** The tutor's payouts, oldest first, on `payouts_by_user_and_time` (userId, createdAt, id). */
const payoutPages = (db: Db, userId: string) =>
  keysetPages<typeof payouts.$inferSelect>(PAGE_SIZE, (last) =>
    db
      .select()
      .from(payouts)
      .where(and(eq(payouts.userId, userId), after(payouts.createdAt, payouts.id, last)))
      .orderBy(asc(payouts.createdAt), asc(payouts.id))
      .limit(PAGE_SIZE),
  );

/** The tutor's Stripe Connect account as `GET /v1/me/payout-account` shows it, with its times. */
const payoutAccountOf = (db: Db, userId: string) =>
  db
    .select({
      accountId: payoutAccounts.stripeAccountId,
      payoutsEnabled: payoutAccounts.payoutsEnabled,
      detailsSubmitted: payoutAccounts.detailsSubmitted,
      createdAt: payoutAccounts.createdAt,
      updatedAt: payoutAccounts.updatedAt,
    })
    .from(payoutAccounts)
    .where(eq(payoutAccounts.userId, userId))
    .get();

/** The purchase orders, oldest first, each with the card refunds and Stripe events about it. */
async function* orderPages(db: Db, userId: string) {
  const pages = keysetPages<typeof creditPurchaseOrders.$inferSelect>(PAGE_SIZE, (last) =>
    db
      .select()
      .from(creditPurchaseOrders)
      .where(
        and(
          eq(creditPurchaseOrders.userId, userId),
          after(creditPurchaseOrders.createdAt, creditPurchaseOrders.id, last),
        ),
      )
      .orderBy(asc(creditPurchaseOrders.createdAt), asc(creditPurchaseOrders.id))
      .limit(PAGE_SIZE),
  );
  for await (const page of pages) {
    const ids = page.map((o) => o.id);
    const [refunds, events] = await db.batch([
      db
        .select({
          id: cardRefunds.id,
          orderId: cardRefunds.orderId,
          amountCents: cardRefunds.amountCents,
          credits: cardRefunds.credits,
          reason: cardRefunds.reason,
          status: cardRefunds.status,
          stripeRefundId: cardRefunds.stripeRefundId,
          failureReason: cardRefunds.failureReason,
          createdAt: cardRefunds.createdAt,
          updatedAt: cardRefunds.updatedAt,
        })
        .from(cardRefunds)
        .where(inArray(cardRefunds.orderId, idsOf(ids))),
      db
        .select({
          id: stripeEvents.id,
          orderId: stripeEvents.orderId,
          type: stripeEvents.type,
          receivedAt: stripeEvents.receivedAt,
          processedAt: stripeEvents.processedAt,
          outcome: stripeEvents.outcome,
        })
        .from(stripeEvents)
        .where(inArray(stripeEvents.orderId, idsOf(ids))),
    ]);
    yield page.map((o) => ({
      ...o,
      cardRefunds: refunds.filter((r) => r.orderId === o.id),
      paymentEvents: events.filter((e) => e.orderId === o.id),
    }));
  }
}

const notificationPages = (db: Db, userId: string) =>
  keysetPages<typeof notifications.$inferSelect>(PAGE_SIZE, (last) =>
    db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, userId), after(notifications.createdAt, notifications.id, last)))
      .orderBy(asc(notifications.createdAt), asc(notifications.id))
      .limit(PAGE_SIZE),
  );

/**
 * Refresh tokens (one per login or rotation), without their hashes, on `refreshTokens_by_user`
 * (userId, revokedAt): the live ones, then the revoked ones, with the rowid as the tie-breaker the
 * index carries.
 */
async function* loginPages(db: Db, userId: string) {
  const columns = {
    rowid: sql<number>`rowid`.as("rowid"),
    id: refreshTokens.id,
    familyId: refreshTokens.familyId,
    familyStartedAt: refreshTokens.familyStartedAt,
    createdAt: refreshTokens.createdAt,
    expiresAt: refreshTokens.expiresAt,
    rotatedAt: refreshTokens.rotatedAt,
    revokedAt: refreshTokens.revokedAt,
  };
  type Row = { rowid: number; revokedAt: number | null };
  const live = keysetPages<Row>(PAGE_SIZE, (last) =>
    db
      .select(columns)
      .from(refreshTokens)
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt), last && sql`rowid > ${last.rowid}`))
      .orderBy(sql`rowid`)
      .limit(PAGE_SIZE),
  );
  const revoked = keysetPages<Row>(PAGE_SIZE, (last) =>
    db
      .select(columns)
      .from(refreshTokens)
      .where(
        and(
          eq(refreshTokens.userId, userId),
          isNotNull(refreshTokens.revokedAt),
          last && sql`(${refreshTokens.revokedAt}, rowid) > (${last.revokedAt}, ${last.rowid})`,
        ),
      )
      .orderBy(asc(refreshTokens.revokedAt), sql`rowid`)
      .limit(PAGE_SIZE),
  );
  for (const pages of [live, revoked]) {
    for await (const page of pages) yield page.map(({ rowid: _rowid, ...row }) => row);
  }
}

/** Login codes sent to the caller's address (kept a day after they expire), without their hashes. */
async function* loginCodePages(db: Db, email: string) {
  const pages = keysetPages<{ rowid: number; createdAt: number }>(PAGE_SIZE, (last) =>
    db
      .select({
        rowid: sql<number>`rowid`.as("rowid"),
        id: otpCodes.id,
        attempts: otpCodes.attempts,
        expiresAt: otpCodes.expiresAt,
        consumedAt: otpCodes.consumedAt,
        createdAt: otpCodes.createdAt,
      })
      .from(otpCodes)
      .where(
        and(
          eq(otpCodes.email, email),
          last && sql`(${otpCodes.createdAt}, rowid) > (${last.createdAt}, ${last.rowid})`,
        ),
      )
      .orderBy(asc(otpCodes.createdAt), sql`rowid`)
      .limit(PAGE_SIZE),
  );
  for await (const page of pages) yield page.map(({ rowid: _rowid, ...row }) => row);
}

/** Admin actions about the caller (`targetId`) or, for an admin, by the caller (`actorUserId`). */
function auditPages(db: Db, userId: string, by: "target" | "actor") {
  const column = by === "target" ? adminAuditLog.targetId : adminAuditLog.actorUserId;
  return keysetPages<{ createdAt: number; id: string }>(PAGE_SIZE, (last) =>
    db
      .select({
        id: adminAuditLog.id,
        action: adminAuditLog.action,
        targetType: adminAuditLog.targetType,
        targetId: adminAuditLog.targetId,
        details: adminAuditLog.details,
        createdAt: adminAuditLog.createdAt,
      })
      .from(adminAuditLog)
      .where(and(eq(column, userId), after(adminAuditLog.createdAt, adminAuditLog.id, last)))
      .orderBy(asc(adminAuditLog.createdAt), asc(adminAuditLog.id))
      .limit(PAGE_SIZE),
  );
}

/**
 * What the caller did as an admin: which kind of action and when, never on whom or with what
 * (those rows are about other people; an admin who is no longer one must not read them here).
 */
async function* ownActionPages(db: Db, userId: string) {
  for await (const page of auditPages(db, userId, "actor")) {
    yield page.map((row) => {
      const {
        targetId: _target,
        details: _details,
        ...own
      } = row as typeof row & {
        targetId: string;
        details: unknown;
      };
      return own;
    });
  }
}

/** `,"name":[…]` from pages of rows, one page at a time. */
async function* jsonArray(name: string, pages: AsyncIterable<unknown[]>): AsyncGenerator<string> {
  yield `,${JSON.stringify(name)}:[`;
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield `${first ? "" : ","}${page.map((row) => JSON.stringify(row)).join(",")}`;
    first = false;
  }
  yield "]";
}

/** The document, as consecutive pieces of JSON text. */
async function* exportPieces(svc: ServiceContext, userId: string): AsyncGenerator<string> {
  const { db } = svc;
  const user = await db.query.users.findFirst({ where: eq(users.id, userId) });
  if (!user) throw new Error(`export: user ${userId} vanished`);
  const studentProfile = await db.query.studentProfiles.findFirst({ where: eq(studentProfiles.userId, userId) });
  const tutorProfile = await tutorProfileOf(db, userId);
  const scheduling = await schedulingOf(db, userId, studentProfile?.id ?? null);
  yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"exportedAt":${svc.clock.now()},"user":${JSON.stringify(user)}`;
  yield `,"studentProfile":${JSON.stringify(studentProfile ?? null)},"tutorProfile":${JSON.stringify(tutorProfile)}`;
  yield* jsonArray("sessionsAsStudent", sessionsWithDetails(db, "student", studentProfile?.id ?? null));
  yield* jsonArray("sessionsAsTutor", sessionsWithDetails(db, "tutor", tutorProfile?.id ?? null));
  yield* jsonArray("ledger", ledgerPages(db, userId));
  yield* jsonArray("orders", orderPages(db, userId));
  yield* jsonArray("notifications", notificationPages(db, userId));
  yield* jsonArray("logins", loginPages(db, userId));
  yield* jsonArray("loginCodes", loginCodePages(db, user.email));
  yield* jsonArray("adminActionsAboutYou", auditPages(db, userId, "target"));
  yield* jsonArray("adminActionsByYou", ownActionPages(db, userId));
  yield* jsonArray("earnings", earningsPages(db, userId));
  yield `,"payoutAccount":${JSON.stringify((await payoutAccountOf(db, userId)) ?? null)}`;
  yield* jsonArray("payouts", payoutPages(db, userId));
  yield `,"seriesBooked":${JSON.stringify(scheduling.series)},"calendarFeed":${JSON.stringify(scheduling.calendarFeed)}`;
  yield* jsonArray("reviews", reviewPages(db, studentProfile?.id ?? null, tutorProfile?.id ?? null));
  yield "}";
}

/** The export as a byte stream, produced as the client reads it (back-pressure: one piece per pull). */
export function exportStream(svc: ServiceContext, userId: string): ReadableStream<Uint8Array> {
  const pieces = exportPieces(svc, userId);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await pieces.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (err) {
        console.log(
          JSON.stringify({
            level: "error",
            msg: "export failed",
            userId,
            requestId: svc.requestId,
            error: String(err),
          }),
        );
        controller.error(err);
      }
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
}
