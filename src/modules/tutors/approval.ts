/**
 * Tutor approval (admin): the review queue by status and the status change. A change is ONE batch:
 * the profile's status, reason and `statusChangedAt`, the directory's rows (`relistStatements`), the
 * tutor's in-app notification and the admin's audit row, the last two guarded on the change having
 * happened. The e-mail follows the commit. Suspending or rejecting never touches booked sessions:
 * they keep working, and admins cancel them on purpose if they must.
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { openPrimary, toStatement } from "../../db/client";
import { type TutorStatus, tutorProfiles } from "../../db/schema";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, notFound } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import { auditEntry, insertAudit } from "../audit/store";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { userEmail } from "../sessions/service";
import { ACCOUNT_CLOSED } from "../users/close-account";
import type { TutorStatusInput } from "./admin-schemas";
import { relistStatements } from "./listing";
import { ownTutorProfile, type SubjectRef, subjectsOfTutors, type TutorProfileRow } from "./service";

/** The admin's view: the owner's view plus when the status last changed. */
export function adminTutorProfile(svc: ServiceContext, row: TutorProfileRow, subjectRefs: SubjectRef[]) {
  return { ...ownTutorProfile(svc.config, row, subjectRefs), statusChangedAt: row.statusChangedAt };
}

/**
 * Profiles with one status, keyset-paged on `tutorProfiles_by_status` (status, createdAt, id):
 * `pending` oldest first (a review queue: who waited longest comes first), every other status
 * newest first.
 */
export async function listTutorsByStatus(
  svc: ServiceContext,
  query: { status: TutorStatus; limit: number; cursor?: string },
) {
  const after = decodeCursor<[number, string]>(query.cursor, ["number", "string"]);
  const ascending = query.status === "pending";
  const key = sql`(${tutorProfiles.createdAt}, ${tutorProfiles.id})`;
  // a row-value bound is an index range (an OR of the two columns would walk from the start)
  const bound =
    after && (ascending ? sql`${key} > (${after[0]}, ${after[1]})` : sql`${key} < (${after[0]}, ${after[1]})`);
  const order = ascending
    ? [asc(tutorProfiles.createdAt), asc(tutorProfiles.id)]
    : [desc(tutorProfiles.createdAt), desc(tutorProfiles.id)];
  const rows = await svc.db
    .select()
    .from(tutorProfiles)
    .where(and(eq(tutorProfiles.status, query.status), bound))
    .orderBy(...order)
    .limit(query.limit + 1);
  const refs = await subjectsOfTutors(
    svc,
    rows.slice(0, query.limit).map((r) => r.id),
  );
  return page(
    rows,
    query.limit,
    (r) => adminTutorProfile(svc, r, refs.get(r.id) ?? []),
    (r) => [r.createdAt, r.id],
  );
}

/**
 * Sets a tutor's status. Unknown profile: 404. The status it already has: 200 unchanged (no
 * notification, no audit row; the reason stays too). A closed account's profile (suspended with
 * `account_closed`) stays so: any other status is 409 — the UPDATE's own guard also holds against
 * a closure committing between the read and the write.
 */
export async function setTutorStatus(
  svc: ServiceContext,
  adminId: string,
  tutorProfileId: string,
  input: TutorStatusInput,
) {
  const { db } = openPrimary(svc.env.DB);
  const current = await db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.id, tutorProfileId) });
  if (!current) throw notFound("Tutor profile");
  if (current.status === input.status) return viewOf(svc, current);
  refuseClosedAccount(current);

  const now = svc.clock.now();
  const reason = input.reason ?? null;
  const changed = {
    sql: "EXISTS (SELECT 1 FROM tutorProfiles WHERE id = ? AND status = ? AND statusChangedAt = ?)",
    binds: [tutorProfileId, input.status, now],
  };
  const data = { tutorProfileId, status: input.status, reason };
  const dedupeKey = `tutor_status_changed:${tutorProfileId}:${input.status}:${now}`;
  const [update] = await svc.d1.batch([
    // only from the status this request read, and never a closed account's profile
    svc.d1
      .prepare(
        `UPDATE tutorProfiles SET status = ?, statusReason = ?, statusChangedAt = ?, updatedAt = ?
WHERE id = ? AND status = ? AND statusReason IS NOT ?`,
      )
      .bind(input.status, reason, now, now, tutorProfileId, current.status, ACCOUNT_CLOSED),
    ...relistStatements(svc.db, tutorProfileId).map((q) => toStatement(svc.d1, q)),
    insertNotification(
      svc.d1,
      { id: newId("ntf"), userId: current.userId, type: "tutor_status_changed", data, dedupeKey, createdAt: now },
      changed,
    ),
    insertAudit(
      svc.d1,
      auditEntry(svc, adminId, "tutor.status", tutorProfileId, {
        previousStatus: current.status,
        status: input.status,
        reason,
      }),
      changed,
    ),
    insertEvent(
      svc.d1,
      {
        type: "tutor.status_changed",
        objectId: tutorProfileId,
        dedupeKey: `tutor.status_changed:${tutorProfileId}:${input.status}:${now}`,
        at: now,
      },
      changed,
    ),
  ]);
  if ((update?.meta.changes ?? 0) > 0) announceEvents(svc);
  const updated = await db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.id, tutorProfileId) });
  if (!updated) throw notFound("Tutor profile");
  if ((update?.meta.changes ?? 0) === 0) {
    // someone else changed it meanwhile: the same outcome is a success, anything else a conflict
    if (updated.status === input.status) return viewOf(svc, updated);
    refuseClosedAccount(updated);
    throw conflict("The tutor's status changed meanwhile; reload it");
  }
  const to = await userEmail(svc, current.userId);
  if (to) {
    enqueueAfterCommit(svc, [
      { type: "email.send", to, idempotencyKey: dedupeKey, ...templates.tutorStatusChanged(input.status, reason) },
    ]);
  }
  return viewOf(svc, updated);
}

function refuseClosedAccount(row: TutorProfileRow) {
  if (row.statusReason === ACCOUNT_CLOSED) {
    throw conflict("This profile's account was closed: it stays suspended");
  }
}

async function viewOf(svc: ServiceContext, row: TutorProfileRow) {
  const refs = await subjectsOfTutors(svc, [row.id]);
  return adminTutorProfile(svc, row, refs.get(row.id) ?? []);
}
