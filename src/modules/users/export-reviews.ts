/**
 * The export's reviews: those the user wrote as a student (every stored field) and those their
 * lessons received as a tutor (the rating and the words, never who wrote them), oldest first in
 * keyset pages on the reviews' per-student and per-tutor indexes.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { reviews } from "../../db/schema";

const PAGE = 500;

export async function* reviewPages(
  db: Db,
  studentProfileId: string | null,
  tutorProfileId: string | null,
): AsyncGenerator<unknown[]> {
  const sides = [
    { role: "author" as const, column: reviews.studentProfileId, profileId: studentProfileId },
    { role: "subject" as const, column: reviews.tutorProfileId, profileId: tutorProfileId },
  ];
  for (const { role, column, profileId } of sides) {
    if (profileId === null) continue;
    let after: [number, string] | undefined;
    for (;;) {
      const rows = await db
        .select()
        .from(reviews)
        .where(
          and(eq(column, profileId), after && sql`(${reviews.createdAt}, ${reviews.id}) > (${after[0]}, ${after[1]})`),
        )
        .orderBy(asc(reviews.createdAt), asc(reviews.id))
        .limit(PAGE);
      yield rows.map(({ studentProfileId: _who, ...r }) =>
        role === "author" ? { role, ...r, studentProfileId: _who } : { role, ...r },
      );
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) break;
      after = [last.createdAt, last.id];
    }
  }
}
