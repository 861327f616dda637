/**
 * A row as D1 hands it over outside drizzle's query path (a raw statement's `RETURNING *`, a JSON
 * snapshot of driver values) turned into the row drizzle would have read: each column through its
 * own mapping (integer booleans, JSON text), keyed by the schema's property names.
 */
import { getTableColumns } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

export function rowFromDriver<T extends SQLiteTable>(table: T, raw: Record<string, unknown>): T["$inferSelect"] {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T["$inferSelect"];
}
