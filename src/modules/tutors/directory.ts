/**
 * GET /v1/tutors: approved tutors, optionally of one subject, sorted (`newest`, `rating`,
 * `price_asc`, `price_desc`) and filtered (`maxPrice`, `minRating`), cursor-paged.
 *
 * The page reads `tutorListings` (listing.ts) as it was at the walk's first page: the cursor
 * carries that instant, so a tutor whose rating or price changes mid-walk keeps its place and the
 * walk lists every tutor once. What is shown is the profile as it is now (its status is checked
 * again: a tutor suspended mid-walk drops out).
 * The SQL and its plan: directory-sql.ts.
 */
import type { ServiceContext } from "../../context";
import { openPrimary } from "../../db/client";
import { decodeCursor, encodeCursor } from "../../lib/cursor";
import { DomainError } from "../../lib/errors";
import { type DirectoryQuery, directorySql, plans, type Row, type SortPlan } from "./directory-sql";
import { LISTING_RETENTION_MS } from "./listing";
import { publicTutor, type ShownTutor, type SubjectRef } from "./service";

function readCursor(plan: SortPlan, cursor: string | undefined) {
  const decoded = decodeCursor<(string | number)[]>(cursor, ["number", ...plan.shape]);
  if (!decoded) return { at: undefined, after: undefined };
  const [at, ...after] = decoded as [number, ...(string | number)[]];
  // the real clock, as the listing's stamps are the database's (never the service's test clock)
  if (at < Date.now() - LISTING_RETENTION_MS) {
    throw new DomainError("validation_failed", "This cursor has expired: start again from the first page", [
      { path: "cursor", message: "Expired cursor" },
    ]);
  }
  return { at, after };
}

/** One page of the directory (with its tutors' subjects), in one statement. */
export async function listTutors(svc: ServiceContext, q: DirectoryQuery) {
  const plan = plans[q.sort];
  const { at, after } = readCursor(plan, q.cursor);
  const page = directorySql(q, at, after);
  // on the primary: the walk's instant is the primary's clock, and a replica behind it could show
  // a page older than that instant (a tutor twice, or skipped, between two pages)
  const { results } = await openPrimary(svc.env.DB)
    .d1.prepare(page.sql)
    .bind(...page.params)
    .all<Row>();
  const more = results.length > q.limit;
  const items = results.slice(0, q.limit);
  const last = items.at(-1);
  return {
    items: items.map((r) => {
      const shown: ShownTutor & { subjectsJson: string | SubjectRef[] } =
        r.nowJson === null ? r : { ...r, ...(JSON.parse(r.nowJson) as ShownTutor & { subjectsJson: string }) };
      return publicTutor(svc.config, shown, subjectsOf(shown.subjectsJson));
    }),
    nextCursor:
      more && last ? encodeCursor([last.at, ...plan.keys.map((_, i) => last[`k${i}`] as string | number)]) : null,
  };
}

/** (A card's subjects nested in `nowJson` may arrive as an array rather than as JSON text.) */
function subjectsOf(json: string | SubjectRef[]): SubjectRef[] {
  return (typeof json === "string" ? (JSON.parse(json) as SubjectRef[]) : [...json]).sort(
    (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}
