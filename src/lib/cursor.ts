/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
import { DomainError } from "../lib/errors";

export function encodeCursor(key: readonly (string | number)[]): string {
  return btoa(JSON.stringify(key)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor<T extends readonly (string | number)[]>(
  cursor: string | undefined,
  /** `number`: a safe integer (times, counts, prices); `float`: any finite number (an average). */
  shape: { [K in keyof T]: "string" | "number" | "float" },
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/"))) as unknown;
    if (
      Array.isArray(parsed) &&
      parsed.length === shape.length &&
      parsed.every((v, i) =>
        shape[i] === "float"
          ? typeof v === "number" && Number.isFinite(v)
          : typeof v === shape[i] && (typeof v !== "number" || Number.isSafeInteger(v)),
      )
    ) {
      return parsed as unknown as T;
    }
  } catch {
    // fall through
  }
  throw new DomainError("validation_failed", "Invalid cursor", [{ path: "cursor", message: "Invalid cursor" }]);
}

/** Splits a `limit + 1` query result into a page and its next cursor. */
export function page<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => readonly (string | number)[],
): { items: Item[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  const last = slice.at(-1);
  return { items: slice.map(toItem), nextCursor: more && last ? encodeCursor(keyOf(last)) : null };
}
