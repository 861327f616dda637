/**
 * The directory's versioned listing (`tutorListings`, see its schema): how a tutor's rows follow
 * the profile. Every change that moves a sort key or the tutor's visibility (price, subjects,
 * status, a review) appends `relistStatements` to its own batch: the tutor's current rows close
 * at the profile's `listedAt` and, if the tutor is approved, new rows open there, computed in SQL
 * from the profile row as that batch leaves it. So the listing never disagrees with the profile,
 * whatever the order in which concurrent batches commit.
 *
 * Each row also carries the tutor's card (name, bio, avatar, time zone, rating sum, subjects), so
 * a directory page reads one row per tutor. The card's fields that are not sort keys change in
 * place on the current rows: the trigger `tutorListings_card` (migration 0011) follows the
 * profile's name, bio, avatar and time zone, whichever statement changes them. A directory page
 * trusts a current row as the profile itself (directory-sql.ts), so the database also guarantees
 * the one fact that hides a tutor: `tutorListings_unlisted` closes the current rows whenever the
 * status leaves `approved`, by whatever statement (relisting then finds nothing to close).
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { LISTING_ALL_SUBJECTS, LISTING_CURRENT, tutorListings, tutorProfiles } from "../../db/schema";

/** How long a closed version is kept: a directory walk started longer ago than this starts again. */
export const LISTING_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The database's own clock in epoch ms. Versions are stamped, and walks read, on this one clock,
 * inside the statements themselves: D1 runs one writer at a time, so a version's stamp is taken
 * while its batch commits and a walk's instant while it reads — a batch that commits after the
 * first page stamps later than it (a Worker's clock, read before the batch was sent, could not
 * promise that). The service's clock (a test clock in tests) plays no part in the listing.
 */
export const DB_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/** Profile `p`'s subjects as the card stores them (`subjectsJson`): a primary-key range of tutorSubjects. */
export const SUBJECTS_JSON_OF_P = `(SELECT json_group_array(json_object('id', s.id, 'name', s.name, 'slug', s.slug))
  FROM tutorSubjects ts JOIN subjects s ON s.id = ts.subjectId WHERE ts.tutorProfileId = p.id)`;

/**
 * The statements that re-derive one tutor's listing, to run in the batch that changed the
 * profile, after its writes. `listedAt` only grows (max with the database's now), so a tutor's
 * versions never overlap even if that clock steps back (a version then spans nothing). Running
 * them when nothing changed only adds an identical version.
 */
export function relistStatements(db: Db, tutorProfileId: string) {
  const listedAt = db
    .select({ listedAt: tutorProfiles.listedAt })
    .from(tutorProfiles)
    .where(eq(tutorProfiles.id, tutorProfileId));
  return [
    db
      .update(tutorProfiles)
      .set({ listedAt: sql`max(${tutorProfiles.listedAt}, ${sql.raw(DB_NOW_MS)})` })
      .where(eq(tutorProfiles.id, tutorProfileId)),
    db
      .update(tutorListings)
      .set({ validTo: sql`(${listedAt})` })
      .where(and(eq(tutorListings.tutorProfileId, tutorProfileId), eq(tutorListings.validTo, LISTING_CURRENT))),
    db.insert(tutorListings).select(
      sql`SELECT NULL, p.id, k.subjectKey, p.createdAt, p.hourlyCreditsPrice,
                 CASE WHEN p.ratingCount = 0 THEN 0 ELSE p.ratingSum * 1.0 / p.ratingCount END,
                 p.ratingCount, p.listedAt, ${LISTING_CURRENT},
                 p.displayName, p.bio, p.avatarS3Key, p.timezone, p.ratingSum,
                 ${sql.raw(SUBJECTS_JSON_OF_P)}
          FROM tutorProfiles p
          JOIN (SELECT ${LISTING_ALL_SUBJECTS} AS subjectKey
                UNION ALL SELECT subjectId FROM tutorSubjects WHERE tutorProfileId = ${tutorProfileId}) k
          WHERE p.id = ${tutorProfileId} AND p.status = 'approved'`,
    ),
  ] as const;
}
