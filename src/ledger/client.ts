/** Typed client: derives the user's CreditLedger stub and turns failures into ApiErrors. */
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import type { LedgerResult } from "./types";

export function ledgerFor(env: Pick<Env, "CREDIT_LEDGER">, userId: string) {
  return env.CREDIT_LEDGER.get(env.CREDIT_LEDGER.idFromName(userId));
}

/** Unwraps a ledger result, throwing the matching ApiError on failure. */
export function unwrap<T>(result: LedgerResult<T>): { replayed: boolean } & T {
  if (!result.ok) throw new ApiError(result.code, result.detail);
  return result as { replayed: boolean } & T;
}
