/**
 * Admin adjustments. Every adjustment is recorded under an idempotency key scoped to the admin:
 * - with `Idempotency-Key: K`, under K (the middleware replays the response for 24 h; after that the
 *   ledger still recognises K, and answers 422 for another user or body, never another user's entry);
 * - without one, under a key derived from the body (`auto-<hash>-<day>`): an identical adjustment by
 *   the same admin within 24 hours (up to 48) is taken as a retry after a timeout and returns the first
 *   entry. Change the description (or send a new key) to make a second, identical one on purpose.
 * The key used is returned (`idempotencyKey`, and the `Idempotency-Key` response header).
 * The audit row (`credits.adjust`) is written by the ledger in the entry's own batch.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { users } from "../../db/schema";
import { ledgerFor, unwrap } from "../../ledger/client";
import { sha256Hex } from "../../lib/crypto";
import { notFound } from "../../lib/errors";
import { auditEntry } from "../audit/store";
import { entryView } from "./service";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AdjustmentInput {
  userId: string;
  type: "credit" | "debit";
  amount: number;
  description: string;
}

async function derivedKeys(adminId: string, input: AdjustmentInput, now: number) {
  const hash = (
    await sha256Hex(JSON.stringify([adminId, input.userId, input.type, input.amount, input.description]))
  ).slice(0, 32);
  const day = Math.floor(now / DAY_MS);
  return { key: `auto-${hash}-${day}`, previous: `auto-${hash}-${day - 1}` };
}

export async function adjustCredits(
  svc: ServiceContext,
  adminId: string,
  input: AdjustmentInput,
  idempotencyKey: string | undefined,
) {
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, input.userId), columns: { id: true } });
  if (!user) throw notFound("User");
  const now = svc.clock.now();
  const derived = idempotencyKey ? null : await derivedKeys(adminId, input, now);
  const key = idempotencyKey ?? (derived?.key as string);
  const { type, amount, description } = input;
  const result = unwrap(
    await ledgerFor(svc.env, input.userId).adjust({
      ...input,
      key: `${adminId}:${key}`,
      aliasKeys: derived ? [`${adminId}:${derived.previous}`] : [],
      at: now,
      // written in the entry's batch; a replay (same key) writes neither entry nor row
      audit: auditEntry(svc, adminId, "credits.adjust", input.userId, { type, amount, description }, now),
    }),
  );
  return { ...entryView(result.entry), idempotencyKey: key };
}
