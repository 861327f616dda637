/**
 * `GET /v1/admin/users/:id`: one user with their profiles, credit balance, earnings balance, tutor
 * status, payout account state and the cents of their pending payout, in ONE D1 batch of primary-key
 * / unique-index reads (the balances are the latest line of each chain, the same statements the
 * owners' own routes read; a tutor has at most one pending payout: payouts_one_pending_per_user).
 */
import type { AuthUser, ServiceContext } from "../../context";
import { earningsBalanceStatement } from "../../ledger/earnings-sql";
import { balanceStatement } from "../../ledger/sql";
import { notFound } from "../../lib/errors";
import { publicUser } from "../auth/service";

const first = <T>(r: D1Result | undefined) => (r?.results?.[0] as T | undefined) ?? null;

type AccountRow = { accountId: string; payoutsEnabled: number; detailsSubmitted: number };

/** Raw D1 rows carry SQLite's 0/1 for booleans. */
const payoutAccountView = (row: AccountRow | null) =>
  row
    ? {
        accountId: row.accountId,
        payoutsEnabled: row.payoutsEnabled === 1,
        detailsSubmitted: row.detailsSubmitted === 1,
      }
    : null;

export async function userDetail(svc: ServiceContext, userId: string) {
  const d1 = svc.d1;
  const [user, student, tutor, balance, earnings, account, pending] = await d1.batch([
    d1
      .prepare(
        "SELECT id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt FROM users WHERE id = ?",
      )
      .bind(userId),
    d1.prepare("SELECT id, displayName FROM studentProfiles WHERE userId = ?").bind(userId),
    d1
      .prepare("SELECT id, displayName, hourlyCreditsPrice, status, statusReason FROM tutorProfiles WHERE userId = ?")
      .bind(userId),
    balanceStatement(d1, userId),
    earningsBalanceStatement(d1, userId),
    d1
      .prepare(
        "SELECT stripeAccountId AS accountId, payoutsEnabled, detailsSubmitted FROM payoutAccounts WHERE userId = ?",
      )
      .bind(userId),
    d1.prepare("SELECT amountCents FROM payouts WHERE userId = ? AND status = 'pending'").bind(userId),
  ]);
  const u = first<AuthUser>(user);
  if (!u) throw notFound("User");
  return {
    ...publicUser(u),
    studentProfile: first<{ id: string; displayName: string }>(student),
    tutorProfile: first<{
      id: string;
      displayName: string;
      hourlyCreditsPrice: number;
      status: "pending" | "approved" | "rejected" | "suspended";
      statusReason: string | null;
    }>(tutor),
    balance: first<{ balanceAfter: number }>(balance)?.balanceAfter ?? 0,
    earningsBalanceCents: first<{ balanceAfterCents: number }>(earnings)?.balanceAfterCents ?? 0,
    payoutAccount: payoutAccountView(first(account)),
    pendingPayoutCents: first<{ amountCents: number }>(pending)?.amountCents ?? 0,
  };
}
