/**
 * Booking steps, run by the student's CreditLedger (one at a time per student), each ONE D1 batch:
 *
 * - a single booking: the session INSERT guarded by `slotFree` (booking-sql.ts), its
 *   `session_booking` debit and both in-app notifications, each guarded by the session existing;
 * - a weekly series: N guarded session INSERTs, N debits, then the `sessionSeries` row whose
 *   `bookedCount` is counted by the INSERT itself — its CHECK (`bookedCount = count`) aborts the whole
 *   batch unless every occurrence went in, so a series is booked entirely or not at all, whatever
 *   raced it; then one `series_scheduled` notification per participant (not N).
 *
 * The debit's CHECK refuses a negative balance (402, nothing written). Idempotent by key:
 * `booking:<sessionId>` for an entry, the series id for a series.
 *
 * Money identity kept: the student's balance falls by exactly Σ creditsCost of the sessions written
 * by the step, each held by its session (creditsCost = refunded + earned + held).
 */
import type { D1Like } from "../db/client";
import { newId } from "../lib/crypto";
import { insertEvent } from "../modules/integrations/outbox";
import { insertNotification } from "../modules/notifications/store";
import { type SlotClaim, slotFree } from "./booking-sql";
import { balanceOf, entryByKey, insertEntry, ledgerErrorKind } from "./sql";
import type { BookSeriesInput, BookSessionInput, LedgerEntry, LedgerFailure, LedgerResult } from "./types";

const fail = (code: LedgerFailure["code"], detail: string): LedgerFailure => ({ ok: false, code, detail });

const sessionExists = (id: string) => ({ sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ?)", binds: [id] });

/** The conditional INSERT of one scheduled session at the claimed time. */
function insertSession(
  d1: D1Like,
  s: { id: string; claim: SlotClaim; subjectId: string; creditsCost: number; seriesId: string | null; at: number },
) {
  const free = slotFree(s.claim);
  return d1
    .prepare(
      `INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, refunded, seriesId, createdAt, updatedAt)
SELECT ?, ?, ?, ?, ?, ?, 'scheduled', ?, 0, ?, ?, ?
WHERE ${free.sql}`,
    )
    .bind(
      s.id,
      s.claim.tutorProfileId,
      s.claim.studentProfileId,
      s.subjectId,
      s.claim.startTime,
      s.claim.endTime,
      s.creditsCost,
      s.seriesId,
      s.at,
      s.at,
      ...free.binds,
    );
}

function debit(d1: D1Like, userId: string, sessionId: string, amount: number, description: string, at: number) {
  return insertEntry(
    d1,
    {
      id: newId("led"),
      userId,
      type: "debit",
      amount,
      source: "session_booking",
      purchaseOrderId: null,
      sessionId,
      description,
      idempotencyKey: `booking:${sessionId}`,
      createdAt: at,
    },
    sessionExists(sessionId),
  );
}

export async function bookSessionStep(
  d1: D1Like,
  input: BookSessionInput,
): Promise<LedgerResult<{ entry: LedgerEntry; balance: number }>> {
  const key = `booking:${input.sessionId}`;
  const existing = await entryByKey(d1, key);
  if (existing) return { ok: true, replayed: true, entry: existing, balance: await balanceOf(d1, input.userId) };
  const { claim, at } = input;
  let results: D1Result[];
  try {
    results = await d1.batch([
      insertSession(d1, {
        id: input.sessionId,
        claim,
        subjectId: input.subjectId,
        creditsCost: input.creditsCost,
        seriesId: null,
        at,
      }),
      debit(d1, input.userId, input.sessionId, input.creditsCost, input.description, at),
      // only when the session row was inserted (the SELECT finds it): a refused slot announces nothing
      insertEvent(d1, {
        type: "session.booked",
        objectId: input.sessionId,
        dedupeKey: `session.booked:${input.sessionId}`,
        at,
      }),
      ...[
        { userId: input.userId, role: "student" },
        { userId: input.tutorUserId, role: "tutor" },
      ].map((n) =>
        insertNotification(
          d1,
          {
            id: newId("ntf"),
            userId: n.userId,
            type: "session_scheduled",
            data: { sessionId: input.sessionId, startTime: claim.startTime, endTime: claim.endTime, role: n.role },
            dedupeKey: `session_scheduled:${input.sessionId}:${n.userId}`,
            createdAt: at,
          },
          sessionExists(input.sessionId),
        ),
      ),
    ]);
  } catch (err) {
    if (ledgerErrorKind(err) === "insufficient") {
      return fail("insufficient_credits", `This session costs ${input.creditsCost} credits`);
    }
    throw err;
  }
  if ((results[0]?.meta.changes ?? 0) === 0) {
    return fail("slot_unavailable", "The tutor or the student is not free at that time");
  }
  const entry = await entryByKey(d1, key);
  if (!entry) throw new Error("booking entry missing after a successful batch");
  return { ok: true, replayed: false, entry, balance: entry.balanceAfter };
}

export interface BookSeriesResult {
  sessionIds: string[];
  balance: number;
}

export async function bookSeriesStep(d1: D1Like, input: BookSeriesInput): Promise<LedgerResult<BookSeriesResult>> {
  const sessionIds = input.occurrences.map((o) => o.sessionId);
  const existing = await d1.prepare("SELECT id FROM sessionSeries WHERE id = ?").bind(input.seriesId).first();
  if (existing) return { ok: true, replayed: true, sessionIds, balance: await balanceOf(d1, input.userId) };
  const first = input.occurrences[0];
  if (!first) return fail("conflict", "A series needs occurrences");
  const { at } = input;
  const total = input.occurrences.reduce((sum, o) => sum + o.creditsCost, 0);
  const seriesRow = { sql: "EXISTS (SELECT 1 FROM sessionSeries WHERE id = ?)", binds: [input.seriesId] };
  const statements: D1PreparedStatement[] = [];
  for (const o of input.occurrences) {
    statements.push(
      insertSession(d1, {
        id: o.sessionId,
        claim: o.claim,
        subjectId: input.subjectId,
        creditsCost: o.creditsCost,
        seriesId: input.seriesId,
        at,
      }),
      debit(d1, input.userId, o.sessionId, o.creditsCost, o.description, at),
    );
  }
  statements.push(
    d1
      .prepare(
        `INSERT INTO sessionSeries (id, studentProfileId, tutorProfileId, subjectId, firstStartTime, durationMinutes, count, timezone, bookedCount, creditsCost, createdAt)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM sessions WHERE seriesId = ?), ?, ?`,
      )
      .bind(
        input.seriesId,
        first.claim.studentProfileId,
        first.claim.tutorProfileId,
        input.subjectId,
        first.claim.startTime,
        input.durationMinutes,
        input.occurrences.length,
        input.timezone,
        input.seriesId,
        total,
        at,
      ),
    ...[
      { userId: input.userId, role: "student" },
      { userId: input.tutorUserId, role: "tutor" },
    ].map((n) =>
      insertNotification(
        d1,
        {
          id: newId("ntf"),
          userId: n.userId,
          type: "series_scheduled",
          data: {
            seriesId: input.seriesId,
            count: input.occurrences.length,
            sessionIds,
            startTimes: input.occurrences.map((o) => o.claim.startTime),
            role: n.role,
          },
          dedupeKey: `series_scheduled:${input.seriesId}:${n.userId}`,
          createdAt: at,
        },
        seriesRow,
      ),
    ),
    // one event per occurrence; the series' trigger aborts the whole batch unless every one was booked
    ...sessionIds.map((id) =>
      insertEvent(d1, { type: "session.booked", objectId: id, dedupeKey: `session.booked:${id}`, at }),
    ),
  );
  try {
    await d1.batch(statements);
  } catch (err) {
    if (ledgerErrorKind(err) === "insufficient") {
      return fail("insufficient_credits", `These ${input.occurrences.length} sessions cost ${total} credits`);
    }
    if (String((err as Error)?.message ?? err).includes("sessionSeries_all_booked")) {
      return fail("slot_unavailable", "An occurrence of the series is no longer free");
    }
    throw err;
  }
  return { ok: true, replayed: false, sessionIds, balance: await balanceOf(d1, input.userId) };
}
