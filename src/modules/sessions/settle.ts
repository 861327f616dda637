/**
 * Every step that splits a session's credits goes through here: the participants are resolved, the
 * step runs in the student's CreditLedger (ledger/session-money.ts, one transaction) with the
 * platform's earning rate, and the session comes back from the step's own batch (no read after it).
 */
import type { ServiceContext } from "../../context";
import { rowFromDriver } from "../../db/rows";
import { sessions } from "../../db/schema";
import { ledgerFor, unwrap } from "../../ledger/client";
import type { SettleStepInput } from "../../ledger/session-money";
import { notFound } from "../../lib/errors";
import type { SessionRow } from "./access";
import { participants } from "./service";

type Note = { type: string; data: Record<string, unknown> };

export type SettleStep = Omit<
  SettleStepInput,
  "sessionId" | "studentUserId" | "tutorUserId" | "at" | "centsPerCredit" | "currency" | "notify"
> & {
  /** In-app notifications: one note for both participants, or one per participant. */
  notify: Note | (Note & { to: "student" | "tutor" })[];
};

export async function settleThroughLedger(svc: ServiceContext, session: SessionRow, step: SettleStep) {
  const people = await participants(svc, session);
  const notes = step.notify;
  const notify =
    "type" in notes
      ? [people.studentUserId, people.tutorUserId].map((userId) => ({ userId, type: notes.type, data: notes.data }))
      : notes.map((n) => ({
          userId: n.to === "student" ? people.studentUserId : people.tutorUserId,
          type: n.type,
          data: n.data,
        }));
  const result = unwrap(
    await ledgerFor(svc.env, people.studentUserId).settleSession({
      ...step,
      notify,
      sessionId: session.id,
      studentUserId: people.studentUserId,
      tutorUserId: people.tutorUserId,
      at: svc.clock.now(),
      centsPerCredit: svc.config.TUTOR_PAYOUT_CENTS_PER_CREDIT,
      currency: svc.config.PAYOUT_CURRENCY,
    }),
  );
  if (!result.session) throw notFound("Session");
  return { session: rowFromDriver(sessions, result.session), result, ...people };
}
