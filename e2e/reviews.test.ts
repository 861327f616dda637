import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  type Session,
  type Subject,
  start,
  type Tokens,
  type Tutor,
} from "./helpers.ts";

interface Listed {
  id: string;
  ratingAverage: number | null;
  ratingCount: number;
  hourlyCreditsPrice: number;
}

describe("reviews and the ranked directory", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("reviews"));
    subject = await newSubject(admin);
  });

  it("a student reviews a completed lesson once; the rating ranks the tutor at once", async () => {
    const [cheap, dear] = [await newTutor(admin, [subject.id], 1), await newTutor(admin, [subject.id], 3)];
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const lesson = (await book(s, dear, subject.id, nextQuarter(), 60)).body as Session;
    await expectProblem(
      await c.call(`/v1/sessions/${lesson.id}/review`, { token: s.token, body: { rating: 5 } }),
      409,
      "conflict",
    );
    await start(dear, lesson.id);
    await c.ok(`/v1/sessions/${lesson.id}/complete`, { method: "POST", token: dear.token });
    const review = await c.ok<{ id: string; rating: number }>(
      `/v1/sessions/${lesson.id}/review`,
      { token: s.token, body: { rating: 5, comment: "Patient and precise." } },
      201,
    );
    assert.equal(review.rating, 5);
    await expectProblem(
      await c.call(`/v1/sessions/${lesson.id}/review`, { token: s.token, body: { rating: 1 } }),
      409,
      "conflict",
    );
    await expectProblem(
      await c.call(`/v1/sessions/${lesson.id}/review`, { token: dear.token, body: { rating: 5 } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await c.call(`/v1/sessions/${lesson.id}/review`, { body: { rating: 5 }, expectViolation: true }),
      401,
      "unauthorized",
    );

    const shown = await c.ok<Listed>(`/v1/tutors/${dear.profileId}`);
    assert.deepEqual([shown.ratingAverage, shown.ratingCount], [5, 1]);
    const reviews = await c.ok<{ items: { id: string; studentName: string; comment: string }[] }>(
      `/v1/tutors/${dear.profileId}/reviews`,
    );
    assert.equal(reviews.items[0]?.id, review.id);
    assert.equal(reviews.items[0]?.comment, "Patient and precise.");
    assert.ok(!JSON.stringify(reviews).includes(s.email));

    const byRating = await c.ok<{ items: Listed[] }>(`/v1/tutors?subject=${subject.slug}&sort=rating&limit=100`);
    assert.equal(byRating.items[0]?.id, dear.profileId);
    const cheapFirst = await c.ok<{ items: Listed[] }>(`/v1/tutors?subject=${subject.slug}&sort=price_asc&limit=100`);
    assert.ok(
      cheapFirst.items.findIndex((t) => t.id === cheap.profileId) <
        cheapFirst.items.findIndex((t) => t.id === dear.profileId),
    );
    const rated = await c.ok<{ items: Listed[] }>(`/v1/tutors?subject=${subject.slug}&minRating=4.5&maxPrice=3`);
    assert.deepEqual(
      rated.items.map((t) => t.id),
      [dear.profileId],
    );
    await expectProblem(await c.call(`/v1/tutors?sort=best`, { expectViolation: true }), 400, "validation_failed");

    const notes = await c.ok<{ items: { type: string; data: { reviewId?: string } }[] }>("/v1/notifications", {
      token: dear.token,
    });
    assert.equal(notes.items.find((n) => n.type === "review_received")?.data.reviewId, review.id);
  });

  it("pages a sorted directory with a stable order while a rating changes mid-walk", async () => {
    const tutors: Tutor[] = [];
    for (let i = 0; i < 5; i++) tutors.push(await newTutor(admin, [subject.id], 2));
    const walk = async (between?: () => Promise<void>) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Listed[]; nextCursor: string | null } = await c.ok(
          `/v1/tutors?subject=${subject.slug}&sort=rating&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        );
        ids.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor;
        if (cursor && between) await between();
      } while (cursor);
      return ids;
    };
    const before = await walk();
    // the last-ranked of the new tutors gets a 5-star review after the first page
    const last = tutors.find(
      (t) => t.profileId === before.filter((id) => tutors.some((x) => x.profileId === id)).at(-1),
    );
    assert.ok(last);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const lesson = (await book(s, last, subject.id, nextQuarter(), 30)).body as Session;
    await start(last, lesson.id);
    await c.ok(`/v1/sessions/${lesson.id}/complete`, { method: "POST", token: last.token });
    let reviewed = false;
    const during = await walk(async () => {
      if (reviewed) return;
      reviewed = true;
      await c.ok(`/v1/sessions/${lesson.id}/review`, { token: s.token, body: { rating: 5 } }, 201);
    });
    assert.deepEqual(during, before, "a walk keeps the order of its first page");
    const after = await walk();
    assert.ok(after.indexOf(last.profileId) < before.indexOf(last.profileId), "a new walk ranks the new rating");
  });
});
