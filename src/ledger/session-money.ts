/**
 * The settling step of a session: the one place where a session's held credits are split, once and
 * for all, into `refundedCredits` (one `session_refund` credit in the student's ledger) and earned
 * credits (one `session_earning` of earned × cents-per-credit in the tutor's earnings ledger).
 *
 * ONE D1 batch, in this order: the refund entry and the earning entry, each guarded by the session
 * still being in a state the step starts from; then the conditional UPDATE of the session (which
 * writes a fresh `transitionId`); then its notifications and audit row, guarded by that id. If the
 * session moved on (a concurrent step won), nothing at all is written. The database guards it again:
 * an entry needs an unsettled session, a settled session needs its entries (migration 0006 triggers),
 * each key is unique, and a settled split can never change.
 *
 * It runs inside the student's CreditLedger (the credits it returns are in the student's chain). The
 * tutor's earnings entry is only ever a credit here; every debit of a tutor's earnings goes through
 * the tutor's own object, and the chain is computed by the database in the transaction, so the two
 * writers can never make a chain wrong or a balance negative (a lost chain race is retried).
 *
 * Money identity kept: creditsCost = refundedCredits + earnedCredits + held, with held = 0 after.
 */
import type { D1Like } from "../db/client";
import type { CancelledBy, NoShowParty, SessionStatus, SettlementStatus, WebhookEventType } from "../db/schema";
import { newId } from "../lib/crypto";
import { type AuditEntry, insertAudit, withDetails } from "../modules/audit/store";
import { insertEvent } from "../modules/integrations/outbox";
import { insertAdminNotifications, insertNotification } from "../modules/notifications/store";
import { insertEarning } from "./earnings-sql";
import { insertEntry } from "./sql";
import type { LedgerFailure, LedgerResult } from "./types";

export interface SettleStepInput {
  sessionId: string;
  studentUserId: string;
  tutorUserId: string;
  at: number;
  /**
   * The states this step starts from: the guard of every statement of the batch. `where` adds a
   * condition on the session's own columns that the decision was made on (the start time a refund
   * window was computed from, a no-show window), so a concurrent move of the lesson or a stale read
   * makes the step write nothing instead of applying a rule to a time that is no longer the lesson's.
   */
  from: {
    status: SessionStatus[];
    settlement: Extract<SettlementStatus, "open" | "disputed">[];
    where?: { sql: string; binds: unknown[] };
  };
  /** What else the step writes on the session (a cancellation, a no-show). */
  set?: { status?: SessionStatus; cancelledBy?: CancelledBy; cancellationReason?: string | null; noShow?: NoShowParty };
  /** Credits back to the student: all of them, or 0 … creditsCost (the rest is earned). */
  refund: "all" | number;
  centsPerCredit: number;
  currency: string;
  /** In-app notifications of the step, one per (user, type); the dedupe key is `<type>:<session>:<user>`. */
  notify: { userId: string; type: string; data: Record<string, unknown> }[];
  /** Also notify every admin (`<type>:<session>:` per admin). */
  notifyAdmins?: { type: string; data: Record<string, unknown> };
  /** The admin's (or the system's) audit row: written only if this step changed the session. */
  audit?: AuditEntry;
  /** false: the caller needs no session back (a sweep), so the batch does not read it. */
  readBack?: boolean;
}

export interface SettleStepResult {
  refundedCredits: number;
  earnedCredits: number;
  tutorEarningsCents: number;
  transitionId: string;
  /** The session as the step's batch left it (D1's driver values: rowFromDriver maps them). */
  session: Record<string, string | number | null> | null;
}

const fail = (code: LedgerFailure["code"], detail: string): LedgerFailure => ({ ok: false, code, detail });

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

export async function settleSessionStep(d1: D1Like, input: SettleStepInput): Promise<LedgerResult<SettleStepResult>> {
  const session = await d1
    .prepare("SELECT creditsCost, status, settlementStatus FROM sessions WHERE id = ?")
    .bind(input.sessionId)
    .first<{ creditsCost: number; status: SessionStatus; settlementStatus: SettlementStatus }>();
  if (!session) return fail("not_found", "Session not found");
  const from = input.from;
  const inFrom =
    from.status.includes(session.status) && (from.settlement as SettlementStatus[]).includes(session.settlementStatus);
  if (!inFrom) return fail("conflict", `A ${session.status} session (${session.settlementStatus}) cannot do this`);
  const cost = session.creditsCost;
  const refundedCredits = input.refund === "all" ? cost : input.refund;
  if (!Number.isInteger(refundedCredits) || refundedCredits < 0 || refundedCredits > cost) {
    return fail("conflict", `A refund must be between 0 and ${cost} credits`);
  }
  const earnedCredits = cost - refundedCredits;
  const tutorEarningsCents = earnedCredits * input.centsPerCredit;
  const transitionId = newId("trn");
  const at = input.at;

  const fromSql = `status IN (${placeholders(from.status.length)}) AND settlementStatus IN (${placeholders(from.settlement.length)})${from.where ? ` AND (${from.where.sql})` : ""}`;
  const fromBinds = [...from.status, ...from.settlement, ...(from.where?.binds ?? [])];
  const inFromState = {
    sql: `EXISTS (SELECT 1 FROM sessions WHERE id = ? AND ${fromSql})`,
    binds: [input.sessionId, ...fromBinds],
  };
  const byThisStep = {
    sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND transitionId = ?)",
    binds: [input.sessionId, transitionId],
  };

  const statements: D1PreparedStatement[] = [];
  if (refundedCredits > 0) {
    statements.push(
      insertEntry(
        d1,
        {
          id: newId("led"),
          userId: input.studentUserId,
          type: "credit",
          amount: refundedCredits,
          source: "session_refund",
          purchaseOrderId: null,
          sessionId: input.sessionId,
          description:
            refundedCredits === cost
              ? "Refund of a session"
              : `Partial refund of a session (${refundedCredits} of ${cost})`,
          idempotencyKey: `refund:${input.sessionId}`,
          createdAt: at,
        },
        inFromState,
      ),
    );
  }
  if (earnedCredits > 0) {
    statements.push(
      insertEarning(
        d1,
        {
          id: newId("ern"),
          userId: input.tutorUserId,
          type: "credit",
          amountCents: tutorEarningsCents,
          currency: input.currency,
          source: "session_earning",
          sessionId: input.sessionId,
          payoutId: null,
          description: `Earning of a session (${earnedCredits} credit${earnedCredits === 1 ? "" : "s"})`,
          idempotencyKey: `earning:${input.sessionId}`,
          createdAt: at,
        },
        inFromState,
      ),
    );
  }
  const set = input.set ?? {};
  const cancelling = set.status === "cancelled";
  statements.push(
    d1
      .prepare(
        `UPDATE sessions SET status = COALESCE(?, status),
  cancelledAt = CASE WHEN ? THEN ? ELSE cancelledAt END,
  cancelledBy = CASE WHEN ? THEN ? ELSE cancelledBy END,
  cancellationReason = CASE WHEN ? THEN ? ELSE cancellationReason END,
  noShow = COALESCE(?, noShow),
  refunded = ?, refundedCredits = ?, earnedCredits = ?, tutorEarningsCents = ?,
  settlementStatus = ?, settledAt = ?, transitionId = ?, updatedAt = ?
WHERE id = ? AND ${fromSql}`,
      )
      .bind(
        set.status ?? null,
        cancelling ? 1 : 0,
        at,
        cancelling ? 1 : 0,
        set.cancelledBy ?? null,
        cancelling ? 1 : 0,
        set.cancellationReason ?? null,
        set.noShow ?? null,
        refundedCredits > 0 ? 1 : 0,
        refundedCredits,
        earnedCredits,
        tutorEarningsCents,
        earnedCredits > 0 ? "settled" : "refunded",
        at,
        transitionId,
        at,
        input.sessionId,
        ...fromBinds,
      ),
  );
  const updateIndex = statements.length - 1;
  for (const n of input.notify) {
    statements.push(
      insertNotification(
        d1,
        {
          id: newId("ntf"),
          userId: n.userId,
          type: n.type,
          data: { sessionId: input.sessionId, ...n.data },
          dedupeKey: `${n.type}:${input.sessionId}:${n.userId}`,
          createdAt: at,
        },
        byThisStep,
      ),
    );
  }
  if (input.notifyAdmins) {
    statements.push(
      insertAdminNotifications(
        d1,
        {
          type: input.notifyAdmins.type,
          data: { sessionId: input.sessionId, ...input.notifyAdmins.data },
          dedupeKey: `${input.notifyAdmins.type}:${input.sessionId}`,
          at,
        },
        byThisStep,
      ),
    );
  }
  if (input.audit) {
    statements.push(insertAudit(d1, withDetails(input.audit, { refundedCredits, earnedCredits }), byThisStep));
  }
  // the outgoing webhooks' events, snapshotting the session as this step left it; each happens once
  const events: WebhookEventType[] = [
    ...(cancelling ? (["session.cancelled"] as const) : []),
    ...(set.noShow ? (["session.no_show"] as const) : []),
    "session.settled",
  ];
  for (const type of events) {
    statements.push(
      insertEvent(d1, { type, objectId: input.sessionId, dedupeKey: `${type}:${input.sessionId}`, at }, byThisStep),
    );
  }
  // read back in the same transaction: the caller needs no read after the step
  const readBack = input.readBack !== false;
  if (readBack) statements.push(d1.prepare("SELECT * FROM sessions WHERE id = ?").bind(input.sessionId));
  const results = await d1.batch(statements);
  if ((results[updateIndex]?.meta.changes ?? 0) === 0) return fail("conflict", "The session changed; reload it");
  const after = readBack
    ? ((results.at(-1)?.results[0] as Record<string, string | number | null> | undefined) ?? null)
    : null;
  return {
    ok: true,
    replayed: false,
    refundedCredits,
    earnedCredits,
    tutorEarningsCents,
    transitionId,
    session: after,
  };
}
