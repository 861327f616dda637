import { describe, expect, it } from "vitest";
import { call, expectProblem, json } from "../helpers/api";
import { createTutor, insertSubject, uniqueSlug } from "./fixtures";

interface Tutor {
  id: string;
  displayName: string;
  bio: string;
  subjects: { id: string; name: string; slug: string }[];
  hourlyCreditsPrice: number;
  avatarUrl: string | null;
}
interface Page {
  items: Tutor[];
  nextCursor: string | null;
}

describe("GET /v1/tutors", () => {
  it("lists the tutors teaching a subject with their subjects, public fields only", async () => {
    const physics = await insertSubject("Physics");
    const chemistry = await insertSubject("Chemistry");
    const other = await insertSubject("Other");
    const both = await createTutor({
      subjectIds: [physics.id, chemistry.id],
      displayName: "Both",
      hourlyCreditsPrice: 6,
    });
    const onlyPhysics = await createTutor({ subjectIds: [physics.id], displayName: "Physics only" });
    await createTutor({ subjectIds: [other.id] });

    const res = await call(`/v1/tutors?subject=${physics.slug}`);
    expect(res.status).toBe(200);
    const body = await json<Page>(res);
    expect(body.nextCursor).toBeNull();
    // Newest first: ids begin with their creation time, so the order is by id, descending.
    const expected = [
      {
        id: onlyPhysics.profile.id,
        displayName: "Physics only",
        bio: onlyPhysics.profile.bio,
        subjects: [physics],
        hourlyCreditsPrice: 4,
        avatarUrl: null,
        ratingAverage: null,
        ratingCount: 0,
        timezone: null,
      },
      {
        id: both.profile.id,
        displayName: "Both",
        bio: both.profile.bio,
        subjects: [chemistry, physics],
        hourlyCreditsPrice: 6,
        avatarUrl: null,
        ratingAverage: null,
        ratingCount: 0,
        timezone: null,
      },
    ].sort((x, y) => (x.id < y.id ? 1 : -1));
    expect(body.items).toEqual(expected);
  });

  it("returns an empty list for an unknown slug", async () => {
    const res = await call(`/v1/tutors?subject=${uniqueSlug("nobody-teaches")}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ items: [], nextCursor: null });
  });

  it("pages with limit and cursor, newest first, without gaps or repeats", async () => {
    const subject = await insertSubject("Paged");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createTutor({ subjectIds: [subject.id] })).profile.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = `/v1/tutors?subject=${subject.slug}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const body: Page = await json<Page>(await call(query));
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((t) => t.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].sort().reverse());
  });

  it("lists every tutor without a subject; rejects a bad limit or cursor with 400", async () => {
    const all = await call("/v1/tutors?limit=100");
    expect(all.status).toBe(200);
    expect((await all.json()) as { items: unknown[] }).toMatchObject({ items: expect.any(Array) });
    await expectProblem(await call("/v1/tutors?subject="), 400, "validation_failed");
    for (const limit of ["0", "101", "abc", "1.5"]) {
      const problem = await expectProblem(await call(`/v1/tutors?subject=x&limit=${limit}`), 400, "validation_failed");
      expect(problem.errors, limit).toContainEqual({ path: "limit", message: expect.any(String) });
    }
    const badCursor = await expectProblem(
      await call("/v1/tutors?subject=x&cursor=not-a-cursor"),
      400,
      "validation_failed",
    );
    expect(badCursor.errors).toEqual([{ path: "cursor", message: "Invalid cursor" }]);
  });
});

describe("GET /v1/tutors/:id", () => {
  it("returns one tutor in the public shape", async () => {
    const subject = await insertSubject("Latin");
    const tutor = await createTutor({ subjectIds: [subject.id], displayName: "Marcus" });
    const res = await call(`/v1/tutors/${tutor.profile.id}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      id: tutor.profile.id,
      displayName: "Marcus",
      bio: tutor.profile.bio,
      subjects: [subject],
      hourlyCreditsPrice: 4,
      avatarUrl: null,
      ratingAverage: null,
      ratingCount: 0,
      timezone: null,
    });
  });

  it("is 404 for an unknown tutor", async () => {
    await expectProblem(await call("/v1/tutors/tut_missing"), 404, "not_found");
  });
});

describe("OpenAPI document", () => {
  it("describes the subject and tutor routes, the avatar upload's media types included", async () => {
    const doc = await json<{
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    }>(await call("/v1/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/subjects",
        "/v1/admin/subjects",
        "/v1/me/tutor-profile",
        "/v1/me/tutor-profile/availability",
        "/v1/me/tutor-profile/avatar",
        "/v1/tutors",
        "/v1/tutors/{id}",
        "/v1/tutors/{id}/avatar",
        "/v1/tutors/{id}/slots",
      ]),
    );
    expect(Object.keys(doc.paths["/v1/me/tutor-profile/avatar"]?.put?.requestBody?.content ?? {})).toEqual([
      "image/png",
      "image/jpeg",
      "image/webp",
    ]);
  });
});
