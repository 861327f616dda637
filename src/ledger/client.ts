/** Typed client: derives the user's CreditLedger stub and turns failures into ApiErrors. */
import type { Env } from "../env";
import { DomainError } from "../lib/errors";
import type { LedgerFailure } from "./types";

export function ledgerFor(env: Pick<Env, "CREDIT_LEDGER">, userId: string) {
  return env.CREDIT_LEDGER.get(env.CREDIT_LEDGER.idFromName(userId));
}

/** Unwraps a ledger result, throwing the matching DomainError on failure. */
export function unwrap<R extends { ok: boolean }>(result: R): Extract<R, { ok: true }> {
  if (!result.ok) {
    const failure = result as unknown as LedgerFailure;
    throw new DomainError(failure.code, failure.detail);
  }
  return result as Extract<R, { ok: true }>;
}
