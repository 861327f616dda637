/**
 * Every step that splits a session's credits goes through here: the participants are resolved, the
 * step runs in the student's CreditLedger (ledger/session-money.ts, one transaction) with the
 * platform's earning rate, and the session comes back from the step's own batch (no read after it).
 * A sweep, which read the participants with its due rows, skips both reads (`settleKnown`).
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

type People = Awaited<ReturnType<typeof participants>>;

export async function settleThroughLedger(
  svc: ServiceContext,
  session: Pick<SessionRow, "id" | "studentProfileId" | "tutorProfileId">,
  step: SettleStep,
) {
  const people = await participants(svc, session);
  const result = await runStep(svc, session.id, people, step, true);
  if (!result.session) throw notFound("Session");
  return { session: rowFromDriver(sessions, result.session), result, ...people };
}

/**
 * The same step for a caller that already read the participants with its rows and needs no
 * session back (the lifecycle sweeps): no read before the step and none inside it.
 */
export async function settleKnown(svc: ServiceContext, sessionId: string, people: People, step: SettleStep) {
  return { result: await runStep(svc, sessionId, people, step, false), ...people };
}

async function runStep(svc: ServiceContext, sessionId: string, people: People, step: SettleStep, readBack: boolean) {
  const notes = step.notify;
  const notify =
    "type" in notes
      ? [people.studentUserId, people.tutorUserId].map((userId) => ({ userId, type: notes.type, data: notes.data }))
      : notes.map((n) => ({
          userId: n.to === "student" ? people.studentUserId : people.tutorUserId,
          type: n.type,
          data: n.data,
        }));
  return unwrap(
    await ledgerFor(svc.env, people.studentUserId).settleSession({
      ...step,
      notify,
      sessionId,
      studentUserId: people.studentUserId,
      tutorUserId: people.tutorUserId,
      at: svc.clock.now(),
      centsPerCredit: svc.config.TUTOR_PAYOUT_CENTS_PER_CREDIT,
      currency: svc.config.PAYOUT_CURRENCY,
      readBack,
    }),
  );
}
