/** Keyset pagination predicates on a (sort key, id) pair: rows strictly after the cursor's row. */
import { type AnyColumn, and, eq, gt, lt, or, type SQL } from "drizzle-orm";

export function keysetAfter(
  key: AnyColumn,
  id: AnyColumn,
  after: readonly [number, string] | undefined,
  direction: "asc" | "desc" = "desc",
): SQL | undefined {
  if (!after) return undefined;
  const past = direction === "desc" ? lt : gt;
  return or(past(key, after[0]), and(eq(key, after[0]), past(id, after[1])));
}
