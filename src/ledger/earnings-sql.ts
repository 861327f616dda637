/**
 * The earnings ledger's SQL, the twin of sql.ts: the next entry's `seq` and `balanceAfterCents` are
 * computed by the database from the tutor's latest entry (an index search on (userId, seq)); the
 * CHECKs, UNIQUE indexes and triggers of migration 0006 reject anything that breaks the chain.
 */
import type { D1Like } from "../db/client";
import type { EarningsSource, earningsLedger, LedgerType } from "../db/schema";

export type EarningsEntry = typeof earningsLedger.$inferSelect;

const LATEST = "(SELECT seq, balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1)";

export interface EarningSpec {
  id: string;
  userId: string;
  type: LedgerType;
  amountCents: number;
  currency: string;
  source: EarningsSource;
  sessionId: string | null;
  payoutId: string | null;
  description: string;
  idempotencyKey: string;
  createdAt: number;
}

/** INSERT of the tutor's next entry, only when `guard` holds and the idempotency key is new. */
export function insertEarning(d1: D1Like, e: EarningSpec, guard?: { sql: string; binds: unknown[] }) {
  const sign = e.type === "credit" ? "+" : "-";
  const sql = `INSERT INTO earningsLedger (id, userId, seq, type, amountCents, balanceAfterCents, currency, source, sessionId, payoutId, description, idempotencyKey, createdAt)
SELECT ?, ?, COALESCE(l.seq, 0) + 1, ?, ?, COALESCE(l.balanceAfterCents, 0) ${sign} ?, ?, ?, ?, ?, ?, ?, ?
FROM (SELECT 1) AS one LEFT JOIN ${LATEST} AS l ON 1
WHERE NOT EXISTS (SELECT 1 FROM earningsLedger WHERE idempotencyKey = ?)${guard ? ` AND (${guard.sql})` : ""}`;
  return d1
    .prepare(sql)
    .bind(
      e.id,
      e.userId,
      e.type,
      e.amountCents,
      e.amountCents,
      e.currency,
      e.source,
      e.sessionId,
      e.payoutId,
      e.description,
      e.idempotencyKey,
      e.createdAt,
      e.userId,
      e.idempotencyKey,
      ...(guard?.binds ?? []),
    );
}

export async function earningByKey(d1: D1Like, key: string) {
  return d1.prepare("SELECT * FROM earningsLedger WHERE idempotencyKey = ?").bind(key).first<EarningsEntry>();
}

/** The available balance: the latest entry's `balanceAfterCents`, one index search on (userId, seq). */
export const earningsBalanceStatement = (d1: D1Like, userId: string) =>
  d1.prepare("SELECT balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1").bind(userId);

export async function earningsBalanceOf(d1: D1Like, userId: string): Promise<number> {
  return (await earningsBalanceStatement(d1, userId).first<{ balanceAfterCents: number }>())?.balanceAfterCents ?? 0;
}
