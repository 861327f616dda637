/**
 * D1 access. Every request opens ONE D1 session (`withSession`) so that, with read replication on,
 * reads may go to a replica while writes go to the primary, and a client that sends back the
 * `x-d1-bookmark` it was given reads its own writes.
 */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/** The raw D1 API shared by D1Database and D1DatabaseSession. */
export type D1Like = Pick<D1Database, "prepare" | "batch">;

declare global {
  /** Set by the test suite: every SQL text the code prepares is recorded (to EXPLAIN it). */
  var __tutorloopSqlLog: Set<string> | undefined;
}

function recorded<T extends D1Like>(d1: T): T {
  return new Proxy(d1, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (query: string) => {
          globalThis.__tutorloopSqlLog?.add(query);
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export interface DbHandle {
  db: Db;
  d1: D1Like;
  bookmark(): string | null;
}

const BOOKMARK = /^[\w-]{1,200}$/;

/** Opens the request's D1 session; an unusable bookmark from a client falls back to a fresh one. */
export function openSession(database: D1Database, bookmark?: string | null): DbHandle {
  let session: D1DatabaseSession;
  try {
    session = database.withSession(bookmark && BOOKMARK.test(bookmark) ? bookmark : "first-unconstrained");
  } catch {
    session = database.withSession("first-unconstrained");
  }
  const d1 = recorded(session);
  return {
    db: drizzle(d1 as unknown as D1Database, { schema }),
    d1,
    bookmark: () => session.getBookmark(),
  };
}

/**
 * A drizzle query as a raw prepared statement, to run it inside a `d1.batch` with other statements.
 * Its rows are the plain SQL values (booleans as 0/1, JSON as text) keyed by column name, so use it
 * for whole-row selects (computed columns such as count() come back unaliased).
 */
export function toStatement(d1: D1Like, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  // drizzle maps booleans to 0/1 only on its own execution path
  return d1.prepare(sql).bind(...params.map((p) => (typeof p === "boolean" ? Number(p) : p)));
}

/** Direct primary access for background work (queue consumer, Durable Object, cron). */
export function openPrimary(database: D1Database): DbHandle {
  return openSession(database, "first-primary");
}
