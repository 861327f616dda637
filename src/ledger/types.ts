/** Inputs and results of CreditLedger operations (plain data: they cross the RPC boundary). */
export interface LedgerEntry {
  id: string;
  userId: string;
  seq: number;
  type: "credit" | "debit";
  amount: number;
  balanceAfter: number;
  source: "purchase" | "session_booking" | "session_refund" | "manual_adjustment";
  purchaseOrderId: string | null;
  sessionId: string | null;
  description: string;
  idempotencyKey: string;
  createdAt: number;
}

export type LedgerFailure = {
  ok: false;
  code: "insufficient_credits" | "slot_unavailable" | "conflict" | "not_found";
  detail: string;
};

export type LedgerResult<T> = ({ ok: true; replayed: boolean } & T) | LedgerFailure;

export interface BookInput {
  userId: string;
  sessionId: string;
  tutorProfileId: string;
  tutorUserId: string;
  studentProfileId: string;
  subjectId: string;
  startTime: number;
  endTime: number;
  creditsCost: number;
  description: string;
}

export interface CancelInput {
  userId: string;
  sessionId: string;
  tutorUserId: string;
  cancelledBy: string;
  reason: string | null;
  refund: boolean;
}

export interface AdjustInput {
  userId: string;
  type: "credit" | "debit";
  amount: number;
  description: string;
  key: string;
}
