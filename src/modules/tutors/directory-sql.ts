/**
 * The directory page's SQL (directory.ts runs it; the bench EXPLAINs it with real values, so this
 * file imports nothing that Node's type stripping cannot load).
 *
 * Plan: the sort's index is named (INDEXED BY), so each combination is one index range walked in
 * order: no scan, no sort step; each entry's row holds the tutor's card (one row read per tutor). Filters that are not the sort key carry a unary `+`, which keeps SQLite from using them to
 * choose another index; they are checked on the index entry itself (the indexes cover them).
 */
import { LISTING_ALL_SUBJECTS, LISTING_CURRENT } from "../../db/schema/trust";
import { DB_NOW_MS, SUBJECTS_JSON_OF_P } from "./listing";
import type { ShownTutor } from "./service";

export const tutorSorts = ["newest", "rating", "price_asc", "price_desc"] as const;
export type TutorSort = (typeof tutorSorts)[number];

export interface DirectoryQuery {
  subject?: string;
  sort: TutorSort;
  maxPrice?: number;
  minRating?: number;
  limit: number;
  cursor?: string;
}

export type KeyShape = "number" | "float" | "string";

export interface SortPlan {
  index: string;
  /** Listing columns of the order, the last one the tutor id (unique among one instant's rows). */
  keys: readonly string[];
  shape: readonly KeyShape[];
  direction: "ASC" | "DESC";
  /** Which filter is the index's own range (the other one is checked on the entries). */
  ranged: "price" | "rating" | null;
}

export const plans: Record<TutorSort, SortPlan> = {
  newest: {
    index: "tutorListings_by_newest",
    keys: ["createdAt", "tutorProfileId"],
    shape: ["number", "string"],
    direction: "DESC",
    ranged: null,
  },
  // unrated tutors have ratingAverage 0 (ratings are 1–5), so they come last
  rating: {
    index: "tutorListings_by_rating",
    keys: ["ratingAverage", "ratingCount", "tutorProfileId"],
    shape: ["float", "number", "string"],
    direction: "DESC",
    ranged: "rating",
  },
  price_asc: {
    index: "tutorListings_by_price",
    keys: ["hourlyCreditsPrice", "tutorProfileId"],
    shape: ["number", "string"],
    direction: "ASC",
    ranged: "price",
  },
  price_desc: {
    index: "tutorListings_by_price",
    keys: ["hourlyCreditsPrice", "tutorProfileId"],
    shape: ["number", "string"],
    direction: "DESC",
    ranged: "price",
  },
};

/** The card columns a directory entry shows (on every listing row, and on the profile). */
const SHOWN = [
  "displayName",
  "bio",
  "hourlyCreditsPrice",
  "avatarS3Key",
  "ratingSum",
  "ratingCount",
  "timezone",
] as const satisfies readonly (keyof ShownTutor)[];
export type Row = ShownTutor & {
  at: number;
  subjectsJson: string;
  /** The profile as it is now, for a tutor whose walked version is no longer current (else null). */
  nowJson: string | null;
} & Record<`k${number}`, string | number>;

/** The walk's instant: the cursor's, else the database's now (constant within the statement). */
const AT = `COALESCE(?1, ${DB_NOW_MS})`;

/** The page's SQL and its parameters (in order; the bench EXPLAINs it with real values). */
export function directorySql(
  q: DirectoryQuery,
  at: number | undefined,
  after: readonly (string | number)[] | undefined,
) {
  const plan = plans[q.sort];
  const params: unknown[] = [];
  const where: string[] = [];
  if (q.subject === undefined) {
    where.push("l.subjectKey = ?");
    params.push(LISTING_ALL_SUBJECTS);
  } else {
    where.push("l.subjectKey = (SELECT id FROM subjects WHERE slug = ?)");
    params.push(q.subject);
  }
  // the version valid just before `at`: of a tutor's versions [v0, v1), [v1, v2) … exactly one has
  // v(i) < at <= v(i+1), so one row per tutor — and a write stamped `at` itself counts as after the walk
  where.push(`+l.validFrom < ${AT}`, `+l.validTo >= ${AT}`);
  if (q.maxPrice !== undefined) {
    where.push(`${plan.ranged === "price" ? "" : "+"}l.hourlyCreditsPrice <= ?`);
    params.push(q.maxPrice);
  }
  if (q.minRating !== undefined) {
    where.push(`${plan.ranged === "rating" ? "" : "+"}l.ratingAverage >= ?`);
    params.push(q.minRating);
  }
  if (after) {
    // a row-value bound is one index range (an OR of the columns would walk from the start)
    const cols = plan.keys.map((k) => `l.${k}`).join(", ");
    where.push(`(${cols}) ${plan.direction === "DESC" ? "<" : ">"} (${plan.keys.map(() => "?").join(", ")})`);
    params.push(...after);
  }
  // A walked version that is still current is the profile as it is now (the same batch writes
  // both), so the row is its own card and needs no other read: every tutor on a first page, and on
  // later ones every tutor not changed since the walk began. A version closed mid-walk is checked
  // against the profile as it is now, which must still be approved and pass the filters (a tutor
  // who left the filter drops out rather than being shown with a price or rating it excludes), and
  // is shown as it is now. SQLite evaluates OR and CASE lazily, so only those rows read the profile.
  const nowChecks = ["p.status = 'approved'"];
  if (q.maxPrice !== undefined) {
    nowChecks.push("p.hourlyCreditsPrice <= ?");
    params.push(q.maxPrice);
  }
  if (q.minRating !== undefined) {
    nowChecks.push("p.ratingCount > 0 AND p.ratingSum * 1.0 / p.ratingCount >= ?");
    params.push(q.minRating);
  }
  where.push(
    `(l.validTo = ${LISTING_CURRENT} OR EXISTS (SELECT 1 FROM tutorProfiles AS p WHERE p.id = l.tutorProfileId AND ${nowChecks.join(" AND ")}))`,
  );
  const keys = plan.keys.map((k, i) => `l.${k} AS k${i}`).join(", ");
  const card = SHOWN.map((c) => `l.${c}`).join(", ");
  const now = SHOWN.map((c) => `'${c}', p.${c}`).join(", ");
  const order = plan.keys.map((k) => `l.${k} ${plan.direction}`).join(", ");
  // the walk's instant (the database's now on the first page) with the page: one statement, one round trip
  const sql = `SELECT ${AT} AS at, ${keys}, l.tutorProfileId AS id, ${card}, l.subjectsJson,
      CASE WHEN l.validTo = ${LISTING_CURRENT} THEN NULL ELSE
        (SELECT json_object(${now}, 'subjectsJson', ${SUBJECTS_JSON_OF_P}) FROM tutorProfiles AS p WHERE p.id = l.tutorProfileId)
      END AS nowJson
    FROM tutorListings AS l INDEXED BY ${plan.index}
    WHERE ${where.join(" AND ")}
    ORDER BY ${order} LIMIT ?`;
  return { sql, params: [at ?? null, ...params, q.limit + 1] };
}
