/**
 * The ledger's SQL. The next entry's `seq` and `balanceAfter` are computed by the database from the
 * user's latest entry (an index search on (userId, seq)); the schema's CHECKs, UNIQUE indexes and
 * triggers reject anything that would break the chain or go negative, aborting the whole batch.
 */
import type { D1Like } from "../db/client";
import type { LedgerSource, LedgerType } from "../db/schema";

const LATEST = "(SELECT seq, balanceAfter FROM creditsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1)";

export interface EntrySpec {
  id: string;
  userId: string;
  type: LedgerType;
  amount: number;
  source: LedgerSource;
  purchaseOrderId: string | null;
  sessionId: string | null;
  description: string;
  idempotencyKey: string;
  createdAt: number;
}

/**
 * INSERT of the next entry, only when `guard` (an SQL boolean with its own binds) holds and the
 * idempotency key is new.
 */
export function insertEntry(d1: D1Like, e: EntrySpec, guard?: { sql: string; binds: unknown[] }) {
  const sign = e.type === "credit" ? "+" : "-";
  const sql = `INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, purchaseOrderId, sessionId, description, idempotencyKey, createdAt)
SELECT ?, ?, COALESCE(l.seq, 0) + 1, ?, ?, COALESCE(l.balanceAfter, 0) ${sign} ?, ?, ?, ?, ?, ?, ?
FROM (SELECT 1) AS one LEFT JOIN ${LATEST} AS l ON 1
WHERE NOT EXISTS (SELECT 1 FROM creditsLedger WHERE idempotencyKey = ?)${guard ? ` AND (${guard.sql})` : ""}`;
  return d1
    .prepare(sql)
    .bind(
      e.id,
      e.userId,
      e.type,
      e.amount,
      e.amount,
      e.source,
      e.purchaseOrderId,
      e.sessionId,
      e.description,
      e.idempotencyKey,
      e.createdAt,
      e.userId,
      e.idempotencyKey,
      ...(guard?.binds ?? []),
    );
}

/** True once the entry with this (fresh) id exists: the guard of what must be written only with it. */
export const entryWritten = (id: string) => ({ sql: "EXISTS (SELECT 1 FROM creditsLedger WHERE id = ?)", binds: [id] });

export async function entryByKey(d1: D1Like, key: string) {
  return d1
    .prepare("SELECT * FROM creditsLedger WHERE idempotencyKey = ?")
    .bind(key)
    .first<import("./types").LedgerEntry>();
}

/** The balance: the latest entry's `balanceAfter`, one index search on (userId, seq). */
export const balanceStatement = (d1: D1Like, userId: string) =>
  d1.prepare("SELECT balanceAfter FROM creditsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1").bind(userId);

export async function balanceOf(d1: D1Like, userId: string): Promise<number> {
  return (await balanceStatement(d1, userId).first<{ balanceAfter: number }>())?.balanceAfter ?? 0;
}

/** Classifies a D1 error raised by a ledger batch. */
export function ledgerErrorKind(err: unknown): "insufficient" | "duplicate" | "chain" | "other" {
  const message = String((err as Error)?.message ?? err);
  if (message.includes("creditsLedger_balance_non_negative")) return "insufficient";
  if (message.includes("earningsLedger_balance_non_negative")) return "insufficient";
  if (message.includes("creditsLedger.idempotencyKey")) return "duplicate";
  if (message.includes("ledger_append_only")) return "chain";
  if (message.includes("ledger_chain_broken") || message.includes("creditsLedger.userId, creditsLedger.seq")) {
    return "chain";
  }
  // the earnings ledger's chain, written beside the credit ledger by a session's settling step
  if (
    message.includes("earnings_chain_broken") ||
    message.includes("earnings_append_only") ||
    message.includes("earningsLedger.userId, earningsLedger.seq")
  ) {
    return "chain";
  }
  return "other";
}
