/**
 * Audit rows as SQL statements, so each admin action writes its row in the SAME D1 batch (one
 * transaction) as the change it records: the row exists exactly when the change does. An action
 * that fails, is refused or is an idempotent replay writes no row. Rows are never updated or deleted
 * (the table's triggers refuse both: `audit_append_only`).
 *
 * How an admin action records itself:
 *   const audit = auditEntry(svc, adminId, "subject.create", subjectId, { name, slug });
 *   await svc.d1.batch([theChange, insertAudit(svc.d1, audit, guard)]);
 * where `guard` (an SQL boolean) holds exactly when `theChange` took effect in this batch — e.g.
 * `EXISTS (SELECT 1 FROM subjects WHERE id = ?)` for a row the batch inserts with a fresh id, or the
 * change's own precondition when the audit statement runs before the change. An `AuditEntry` is plain
 * data: it crosses the Durable Object RPC boundary (CreditLedger writes it in its ledger batch).
 */
import type { ServiceContext } from "../../context";
import type { D1Like } from "../../db/client";
import { newId } from "../../lib/crypto";
import { AUDIT_ACTIONS, type AuditAction } from "./actions";

/** The action's inputs and the ids it produced: flat JSON values, never secrets or e-mail addresses. */
export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditEntry {
  /** The admin's user id, or SYSTEM_ACTOR for what the platform did in consequence. */
  actorUserId: string;
  action: AuditAction;
  targetId: string;
  details: AuditDetails;
  /** The request's `x-request-id` (svc.requestId), to find its access-log line. */
  requestId: string | null;
  at: number;
}

/** An SQL boolean with its binds. */
export interface AuditGuard {
  sql: string;
  binds: unknown[];
}

/** The entry of an admin action done in this request (or job): actor, action, target and inputs. */
export function auditEntry(
  svc: Pick<ServiceContext, "requestId" | "clock">,
  actorUserId: string,
  action: AuditAction,
  targetId: string,
  details: AuditDetails,
  at = svc.clock.now(),
): AuditEntry {
  return { actorUserId, action, targetId, details, requestId: svc.requestId, at };
}

/** The entry with ids the action produced inside its batch (a ledger entry, a refund) added to its details. */
export function withDetails(entry: AuditEntry, more: AuditDetails): AuditEntry {
  return { ...entry, details: { ...entry.details, ...more } };
}

/** The INSERT of one audit row, written only when `guard` holds (its target type follows from the action). */
export function insertAudit(d1: D1Like, e: AuditEntry, guard?: AuditGuard): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO adminAuditLog (id, actorUserId, action, targetType, targetId, details, requestId, createdAt)
SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard ? guard.sql : "1"}`,
    )
    .bind(
      newId("aud"),
      e.actorUserId,
      e.action,
      AUDIT_ACTIONS[e.action],
      e.targetId,
      JSON.stringify(e.details),
      e.requestId,
      e.at,
      ...(guard?.binds ?? []),
    );
}
