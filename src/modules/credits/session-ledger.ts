/**
 * `GET /v1/admin/sessions/:id/ledger`: what one lesson moved, in ONE D1 batch: the credit entries
 * carrying its id (creditsLedger_by_session: the booking debit, any refund) and the tutor's earnings
 * entry of it. Only a `session_earning` carries a session id in the earnings ledger (payouts and
 * their reversals carry a payout id; the CHECK earningsLedger_source_shape requires the session id
 * of an earning), so the partial unique index earningsLedger_one_earning_per_session finds it.
 */
import type { ServiceContext } from "../../context";
import type { creditsLedger } from "../../db/schema";
import type { EarningsEntry } from "../../ledger/earnings-sql";
import { notFound } from "../../lib/errors";
import { earningsEntryView } from "../earnings/service";
import type { SessionLedgerView } from "./schemas";
import { entryView } from "./service";

type CreditRow = typeof creditsLedger.$inferSelect;

/**
 * Oldest first, sorted here: a session has a handful of entries, and an ORDER BY would make SQLite
 * sort them anyway (neither index is in time order). Ties (one batch) fall back to the chain order.
 */
const oldestFirst = <T extends { createdAt: number; userId: string; seq: number }>(rows: T[]) =>
  rows.sort((a, b) => a.createdAt - b.createdAt || a.userId.localeCompare(b.userId) || a.seq - b.seq);

export async function sessionLedger(svc: ServiceContext, sessionId: string): Promise<SessionLedgerView> {
  const d1 = svc.d1;
  const [session, credits, earnings] = await d1.batch([
    d1.prepare("SELECT id FROM sessions WHERE id = ?").bind(sessionId),
    d1.prepare("SELECT * FROM creditsLedger WHERE sessionId = ?").bind(sessionId),
    d1.prepare("SELECT * FROM earningsLedger WHERE sessionId = ? AND source = 'session_earning'").bind(sessionId),
  ]);
  if (!session?.results?.length) throw notFound("Session");
  return {
    credits: oldestFirst((credits?.results ?? []) as CreditRow[]).map((e) => ({ ...entryView(e), userId: e.userId })),
    earnings: oldestFirst((earnings?.results ?? []) as EarningsEntry[]).map((e) => ({
      ...earningsEntryView(e),
      userId: e.userId,
    })),
  };
}
