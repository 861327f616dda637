/**
 * The sorted, filtered directory (GET /v1/tutors ?sort ?maxPrice ?minRating): every order and
 * filter against an oracle computed from the profiles, 5,000 tutors paged through without a
 * duplicate or a gap while reviews change ratings between the pages, every combination's query
 * on its index (test/setup.ts EXPLAINs each: no scan, no sort step), expired cursors refused.
 */
import { describe, expect, it } from "vitest";
import { purgeExpired } from "../../src/jobs/cleanup";
import { jobContext } from "../../src/jobs/context";
import { encodeCursor } from "../../src/lib/cursor";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { pastLesson, review } from "../reviews/world";
import type { Tutor } from "../sessions/helpers";
import { type Profile, seedTutors } from "./seeded-tutors";

interface Listed {
  id: string;
  hourlyCreditsPrice: number;
  ratingAverage: number | null;
  ratingCount: number;
  subjects: { id: string }[];
}
interface Page {
  items: Listed[];
  nextCursor: string | null;
}

const sorts = ["newest", "rating", "price_asc", "price_desc"] as const;
type Sort = (typeof sorts)[number];
const avg = (p: Profile) => (p.ratingCount === 0 ? 0 : p.ratingSum / p.ratingCount);
const byId = (a: Profile, b: Profile) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const comparators: Record<Sort, (a: Profile, b: Profile) => number> = {
  newest: (a, b) => b.createdAt - a.createdAt || byId(b, a),
  rating: (a, b) => avg(b) - avg(a) || b.ratingCount - a.ratingCount || byId(b, a),
  price_asc: (a, b) => a.hourlyCreditsPrice - b.hourlyCreditsPrice || byId(a, b),
  price_desc: (a, b) => b.hourlyCreditsPrice - a.hourlyCreditsPrice || byId(b, a),
};

async function profilesOf(ids: readonly string[]): Promise<Profile[]> {
  const out: Profile[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const { results } = await env.DB.prepare(
      "SELECT id, createdAt, hourlyCreditsPrice, ratingSum, ratingCount FROM tutorProfiles WHERE id IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(ids.slice(i, i + 500)))
      .all<Profile>();
    out.push(...results);
  }
  return out;
}

/** Walks a listing to its end; `between` runs after each page (the world changing mid-walk). */
async function walk(path: string, between: () => Promise<void> = async () => {}) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await call(`${path}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    const page: Page = await json(res);
    ids.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
    pages++;
    if (cursor) await between();
  } while (cursor);
  return { ids, pages };
}

/** Completed lessons of random seeded tutors, each with its own student, to review mid-walk. */
async function lessonsFor(rows: readonly Profile[], count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const tutor = rows[(i * 7919) % rows.length] as Profile;
      const student = await createUser("student");
      return pastLesson({ tutorProfileId: tutor.id } as Tutor, student);
    }),
  );
}

describe("GET /v1/tutors sorted and filtered", () => {
  it("orders and filters like the oracle, unrated tutors last by rating", async () => {
    const { subject, rows } = await seedTutors(120, "small");
    const cases: [string, (p: Profile) => boolean][] = [
      ["", () => true],
      ["&maxPrice=20", (p) => p.hourlyCreditsPrice <= 20],
      ["&minRating=3.5", (p) => avg(p) >= 3.5],
      ["&maxPrice=40&minRating=2", (p) => p.hourlyCreditsPrice <= 40 && avg(p) >= 2],
      ["&minRating=5", (p) => avg(p) >= 5],
    ];
    for (const sort of sorts) {
      for (const [filter, keep] of cases) {
        const expected = rows.filter(keep).sort(comparators[sort]);
        const { ids } = await walk(`/v1/tutors?subject=${subject.slug}&sort=${sort}${filter}&limit=17`);
        expect(ids, `${sort}${filter}`).toEqual(expected.map((p) => p.id));
      }
    }
    const first = await json<Page>(await call(`/v1/tutors?subject=${subject.slug}&sort=rating&limit=100`));
    const rest = await json<Page>(
      await call(`/v1/tutors?subject=${subject.slug}&sort=rating&limit=100&cursor=${first.nextCursor}`),
    );
    const page = { items: [...first.items, ...rest.items] };
    expect(page.items).toHaveLength(120);
    const unrated = page.items.findIndex((t) => t.ratingAverage === null);
    expect(unrated).toBeGreaterThan(0);
    expect(page.items.slice(unrated).every((t) => t.ratingAverage === null && t.ratingCount === 0)).toBe(true);
    for (const t of page.items) {
      const p = rows.find((r) => r.id === t.id) as Profile;
      expect(t.ratingAverage).toBe(p.ratingCount === 0 ? null : p.ratingSum / p.ratingCount);
      expect(t.subjects.map((s) => s.id)).toEqual([subject.id]);
    }
  });

  it("pages through 5,000 tutors in every order without duplicates or gaps while reviews change ratings", async () => {
    const { subject, rows } = await seedTutors(5000, "big");
    const lessons = await lessonsFor(rows, 4 * 50);
    let next = 0;
    const reviewOne = async () => {
      const lesson = lessons[next++];
      if (!lesson) return;
      expect((await review(lesson, { rating: next % 2 === 0 ? 5 : 1 })).status).toBe(201);
    };
    for (const sort of sorts) {
      // the oracle: the order at the walk's start; the walk must keep it whatever changes meanwhile
      const before = await profilesOf(rows.map((r) => r.id));
      const expected = before.sort(comparators[sort]).map((p) => p.id);
      const { ids, pages } = await walk(`/v1/tutors?subject=${subject.slug}&sort=${sort}&limit=100`, reviewOne);
      expect(pages).toBe(50);
      expect(new Set(ids).size).toBe(5000);
      expect(ids).toEqual(expected);
    }
    expect(next).toBeGreaterThanOrEqual(4 * 49);
    // a new walk sees the new ratings
    const now = (await profilesOf(rows.map((r) => r.id))).sort(comparators.rating).map((p) => p.id);
    const first = await json<Page>(await call(`/v1/tutors?subject=${subject.slug}&sort=rating&limit=100`));
    expect(first.items.map((t) => t.id)).toEqual(now.slice(0, 100));
  });

  it("reads an index for every combination of subject, sort, filters and cursor", async () => {
    const { subject } = await seedTutors(30, "plans");
    for (const sort of sorts) {
      for (const where of ["", `&subject=${subject.slug}`]) {
        for (const filter of ["", "&maxPrice=30", "&minRating=2.5", "&maxPrice=30&minRating=2.5"]) {
          const first = await json<Page>(await call(`/v1/tutors?sort=${sort}${where}${filter}&limit=2`));
          expect(first.nextCursor).not.toBeNull();
          const res = await call(`/v1/tutors?sort=${sort}${where}${filter}&limit=2&cursor=${first.nextCursor}`);
          expect(res.status).toBe(200);
        }
      }
    }
    // test/setup.ts EXPLAINs each distinct statement after this file: a scan or a sort step fails it
  });

  it("refuses a bad sort, filter or cursor with 400, and a cursor past the retention", async () => {
    for (const q of [
      "sort=cheapest",
      "maxPrice=0",
      "maxPrice=abc",
      "minRating=0.5",
      "minRating=6",
      "minRating=4.555",
      "minRating=x",
      "cursor=abc",
    ]) {
      await expectProblem(await call(`/v1/tutors?${q}`), 400, "validation_failed");
    }
    const stale = encodeCursor([Date.now() - 25 * 3_600_000, 1, "tut_x"]);
    await expectProblem(await call(`/v1/tutors?sort=newest&cursor=${stale}`), 400, "validation_failed");
    // a cursor of another sort does not fit this one's keys
    const ratingCursor = encodeCursor([Date.now(), 4.5, 3, "tut_x"]);
    await expectProblem(await call(`/v1/tutors?sort=newest&cursor=${ratingCursor}`), 400, "validation_failed");
  });

  it("the cron deletes versions closed over 24 hours ago and keeps the rest", async () => {
    const { rows } = await seedTutors(1, "prune");
    const id = (rows[0] as Profile).id;
    const now = Date.now();
    const insert = (from: number, to: number) =>
      env.DB.prepare(
        "INSERT INTO tutorListings (tutorProfileId, subjectKey, createdAt, hourlyCreditsPrice, ratingAverage, ratingCount, validFrom, validTo) VALUES (?, '*', 0, 1, 0, 0, ?, ?)",
      ).bind(id, from, to);
    await env.DB.batch([
      insert(now - 30 * 3_600_000, now - 25 * 3_600_000),
      insert(now - 25 * 3_600_000, now - 3_600_000),
    ]);
    await purgeExpired(await jobContext(env, "test"));
    const { results } = await env.DB.prepare(
      "SELECT validTo FROM tutorListings WHERE tutorProfileId = ? AND subjectKey = '*' ORDER BY validTo",
    )
      .bind(id)
      .all<{ validTo: number }>();
    expect(results.map((r) => r.validTo)).toEqual([now - 3_600_000, 9007199254740991]);
  });
});
