/**
 * Paged reads of one account, for the export and for closing the account: a user may have
 * thousands of sessions, ledger lines or notifications, so nothing here reads them all at once.
 * Each page is one keyset query on an index that starts with the account's id (or profile id).
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { sessions } from "../../db/schema";
import type { SessionRow } from "../sessions/access";

/** Rows per page of the small tables. */
export const PAGE_SIZE = 500;
/** Sessions per page: a page also reads its recordings, whose transcripts can be long. */
export const SESSION_PAGE_SIZE = 100;

/**
 * Pages of `size` rows: `next(last)` reads the page after the row `last` (the first page when it is
 * undefined). Stops at the first short page.
 */
export async function* keysetPages<Row>(
  size: number,
  next: (last: Row | undefined) => Promise<Row[]>,
): AsyncGenerator<Row[]> {
  let last: Row | undefined;
  for (;;) {
    const rows = await next(last);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    last = rows.at(-1);
  }
}

export type SessionRole = "student" | "tutor";

/** The account's profile ids, as its user row holds them. */
export interface AccountProfiles {
  studentProfileId: string | null;
  tutorProfileId: string | null;
}

/** The roles the account has a profile for, with that profile's id. */
export function profilesOf(user: AccountProfiles): { role: SessionRole; profileId: string }[] {
  const out: { role: SessionRole; profileId: string }[] = [];
  if (user.studentProfileId) out.push({ role: "student", profileId: user.studentProfileId });
  if (user.tutorProfileId) out.push({ role: "tutor", profileId: user.tutorProfileId });
  return out;
}

/**
 * The profile's sessions in start-time order, on its (profileId, startTime, id) index; with
 * `startingAfter`, only those starting later than that instant.
 */
export function sessionPages(
  db: Db,
  role: SessionRole,
  profileId: string,
  opts: { startingAfter?: number } = {},
): AsyncGenerator<SessionRow[]> {
  const column = role === "tutor" ? sessions.tutorProfileId : sessions.studentProfileId;
  return keysetPages<SessionRow>(SESSION_PAGE_SIZE, (last) =>
    db
      .select()
      .from(sessions)
      .where(
        and(
          eq(column, profileId),
          opts.startingAfter === undefined ? undefined : gt(sessions.startTime, opts.startingAfter),
          // a row-value bound is an index range on (startTime, id)
          last && sql`(${sessions.startTime}, ${sessions.id}) > (${last.startTime}, ${last.id})`,
        ),
      )
      .orderBy(asc(sessions.startTime), asc(sessions.id))
      .limit(SESSION_PAGE_SIZE),
  );
}
