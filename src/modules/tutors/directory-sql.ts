/**
 * The directory page's SQL (directory.ts runs it; the bench EXPLAINs it with real values, so this
 * file imports nothing that Node's type stripping cannot load).
 *
 * Plan: the sort's covering index is named (INDEXED BY) and the listing drives the join (CROSS
 * JOIN fixes the order), so each combination is one index range walked in order: no scan, no sort
 * step. Filters that are not the sort key carry a unary `+`, which keeps SQLite from using them to
 * choose another index; they are checked on the index entry itself (the indexes cover them).
 */
import { LISTING_ALL_SUBJECTS } from "../../db/schema/trust";
import { DB_NOW_MS } from "./listing";
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

/** The profile columns a directory entry shows. */
const SHOWN = [
  "id",
  "displayName",
  "bio",
  "hourlyCreditsPrice",
  "avatarS3Key",
  "ratingSum",
  "ratingCount",
  "timezone",
] as const satisfies readonly (keyof ShownTutor)[];
export type Row = ShownTutor & { at: number; subjectsJson: string } & Record<`k${number}`, string | number>;

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
  // the profile as it is now must still pass: a tutor who left the filter mid-walk drops out
  // rather than being shown with a price or rating the filter excludes
  where.push("p.status = 'approved'");
  if (q.maxPrice !== undefined) {
    where.push("p.hourlyCreditsPrice <= ?");
    params.push(q.maxPrice);
  }
  if (q.minRating !== undefined) {
    where.push("p.ratingCount > 0 AND p.ratingSum * 1.0 / p.ratingCount >= ?");
    params.push(q.minRating);
  }
  const keys = plan.keys.map((k, i) => `l.${k} AS k${i}`).join(", ");
  const shown = SHOWN.map((c) => `p.${c}`).join(", ");
  const order = plan.keys.map((k) => `l.${k} ${plan.direction}`).join(", ");
  // the walk's instant (the database's now on the first page) and each tutor's subjects as JSON
  // (a primary-key range of tutorSubjects per row): the page is one statement, one round trip
  const sql = `SELECT ${AT} AS at, ${keys}, ${shown},
      (SELECT json_group_array(json_object('id', s.id, 'name', s.name, 'slug', s.slug))
       FROM tutorSubjects ts JOIN subjects s ON s.id = ts.subjectId WHERE ts.tutorProfileId = p.id) AS subjectsJson
    FROM tutorListings AS l INDEXED BY ${plan.index}
    CROSS JOIN tutorProfiles AS p ON p.id = l.tutorProfileId
    WHERE ${where.join(" AND ")}
    ORDER BY ${order} LIMIT ?`;
  return { sql, params: [at ?? null, ...params, q.limit + 1] };
}
