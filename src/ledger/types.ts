/** Inputs and results of CreditLedger operations (plain data: they cross the RPC boundary). */
import type { creditsLedger, DisputeStatus } from "../db/schema";
import type { AuditEntry } from "../modules/audit/store";
import type { SlotClaim } from "./booking-sql";

/** A ledger row exactly as the table holds it (the drizzle table is the one source of its fields). */
export type LedgerEntry = typeof creditsLedger.$inferSelect;

export type LedgerFailure = {
  ok: false;
  code: "insufficient_credits" | "slot_unavailable" | "conflict" | "not_found" | "idempotency_conflict";
  detail: string;
};

export type LedgerResult<T> = ({ ok: true; replayed: boolean } & T) | LedgerFailure;

export interface BookSessionInput {
  userId: string;
  sessionId: string;
  tutorUserId: string;
  /** Tutor, student, interval and local day: the SQL guard of the insert (booking-sql.ts). */
  claim: SlotClaim;
  subjectId: string;
  creditsCost: number;
  description: string;
  at: number;
}

/** One weekly series in one step: every occurrence, or nothing (sessionSeries_all_booked). */
export interface BookSeriesInput {
  userId: string;
  seriesId: string;
  tutorUserId: string;
  subjectId: string;
  durationMinutes: number;
  timezone: string;
  /** Per occurrence: its session id, claim and cost, in time order. */
  occurrences: { sessionId: string; claim: SlotClaim; creditsCost: number; description: string }[];
  at: number;
}

export interface AdjustInput {
  userId: string;
  type: "credit" | "debit";
  amount: number;
  description: string;
  key: string;
  /** Earlier keys that also count as "this same adjustment" (the previous window of a derived key). */
  aliasKeys?: string[];
  at: number;
  /** The admin's audit row, written in the entry's batch (only when the entry is). */
  audit?: AuditEntry;
}

/** The money state of an order, as the ledger operations read and guard it. */
export interface OrderMoney {
  id: string;
  userId: string;
  status: string;
  totalCredits: number;
  totalCents: number;
  packId: string;
  refundedCents: number;
  stripeRefundedCents: number;
  reversedCredits: number;
  disputeReversedCredits: number;
  disputeStatus: DisputeStatus | null;
  disputeId: string | null;
}

/** What Stripe's `charge.refunded` says: the cumulative refunded amount of the order's charge. */
export interface CardRefundInput {
  userId: string;
  orderId: string;
  eventId: string;
  amountRefunded: number;
  chargeAmount: number;
  at: number;
}

export interface DisputeInput {
  userId: string;
  orderId: string;
  disputeId: string;
  /** `open` for charge.dispute.created; `won` / `lost` for charge.dispute.closed. */
  status: DisputeStatus;
  at: number;
}

export interface AdminRefundInput {
  userId: string;
  orderId: string;
  credits: number;
  cents: number;
  /** The admin's idempotency key (scoped by the caller): one reversal and one Stripe refund per key. */
  key: string;
  actorUserId: string;
  at: number;
  /** The admin's audit row, written in the reversal's batch (the refund id and entry id are added). */
  audit?: AuditEntry;
}

export interface UndoAdminRefundInput {
  userId: string;
  refundId: string;
  reason: string;
  at: number;
  /** The system's audit row of the undo, written in the reinstatement's batch. */
  audit?: AuditEntry;
}

/** The result of an order operation: what moved (0 when the event changed nothing). */
export interface OrderMoveResult {
  reversed: number;
  reinstated: number;
  order: OrderMoney;
  balance: number;
}
