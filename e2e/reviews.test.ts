import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type components, unwrap } from "../sdk/src/index.ts";
import {
  adminEmail,
  bookAs,
  c,
  expectProblem,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  type Subject,
  sdkAs,
  start,
  type Tokens,
  type Tutor,
} from "./helpers.ts";

/** A booking through the SDK; the session it booked. */
const bookedAs = async (...args: Parameters<typeof bookAs>) => unwrap(await bookAs(...args));

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
    const lesson = await bookedAs(s, dear, subject.id, nextQuarter(), 60);
    const path = { id: lesson.id };
    expectProblemOf(
      await sdkAs(s.token).POST("/v1/sessions/{id}/review", { params: { path }, body: { rating: 5 } }),
      409,
      "conflict",
    );
    await start(dear, lesson.id);
    unwrap(await sdkAs(dear.token).POST("/v1/sessions/{id}/complete", { params: { path } }));
    const posted = await sdkAs(s.token).POST("/v1/sessions/{id}/review", {
      params: { path },
      body: { rating: 5, comment: "Patient and precise." },
    });
    assert.equal(posted.response.status, 201, JSON.stringify(posted.error));
    const review = unwrap(posted);
    assert.equal(review.rating, 5);
    expectProblemOf(
      await sdkAs(s.token).POST("/v1/sessions/{id}/review", { params: { path }, body: { rating: 1 } }),
      409,
      "conflict",
    );
    expectProblemOf(
      await sdkAs(dear.token).POST("/v1/sessions/{id}/review", { params: { path }, body: { rating: 5 } }),
      403,
      "forbidden",
    );
    // no token, against the route's security requirement: a violation on purpose
    await expectProblem(
      await c.call(`/v1/sessions/${lesson.id}/review`, { body: { rating: 5 }, expectViolation: true }),
      401,
      "unauthorized",
    );

    const anonymous = sdkAs();
    const shown = unwrap(await anonymous.GET("/v1/tutors/{id}", { params: { path: { id: dear.profileId } } }));
    assert.deepEqual([shown.ratingAverage, shown.ratingCount], [5, 1]);
    const reviews = unwrap(
      await anonymous.GET("/v1/tutors/{id}/reviews", { params: { path: { id: dear.profileId } } }),
    );
    assert.equal(reviews.items[0]?.id, review.id);
    assert.equal(reviews.items[0]?.comment, "Patient and precise.");
    assert.ok(!JSON.stringify(reviews).includes(s.email));

    const byRating = unwrap(
      await anonymous.GET("/v1/tutors", { params: { query: { subject: subject.slug, sort: "rating", limit: 100 } } }),
    );
    assert.equal(byRating.items[0]?.id, dear.profileId);
    const cheapFirst = unwrap(
      await anonymous.GET("/v1/tutors", {
        params: { query: { subject: subject.slug, sort: "price_asc", limit: 100 } },
      }),
    );
    assert.ok(
      cheapFirst.items.findIndex((t) => t.id === cheap.profileId) <
        cheapFirst.items.findIndex((t) => t.id === dear.profileId),
    );
    const rated = unwrap(
      await anonymous.GET("/v1/tutors", { params: { query: { subject: subject.slug, minRating: 4.5, maxPrice: 3 } } }),
    );
    assert.deepEqual(
      rated.items.map((t) => t.id),
      [dear.profileId],
    );
    // a sort the document does not list: the SDK's types refuse it
    await expectProblem(await c.call(`/v1/tutors?sort=best`, { expectViolation: true }), 400, "validation_failed");

    const notes = unwrap(await sdkAs(dear.token).GET("/v1/notifications"));
    assert.equal(notes.items.find((n) => n.type === "review_received")?.data.reviewId, review.id);
  });

  it("pages a sorted directory with a stable order while a rating changes mid-walk", async () => {
    const tutors: Tutor[] = [];
    for (let i = 0; i < 5; i++) tutors.push(await newTutor(admin, [subject.id], 2));
    const walk = async (between?: () => Promise<void>) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: components["schemas"]["TutorPage"] = unwrap(
          await sdkAs().GET("/v1/tutors", {
            params: { query: { subject: subject.slug, sort: "rating", limit: 2, ...(cursor ? { cursor } : {}) } },
          }),
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
    const lesson = await bookedAs(s, last, subject.id, nextQuarter(), 30);
    const path = { id: lesson.id };
    await start(last, lesson.id);
    unwrap(await sdkAs(last.token).POST("/v1/sessions/{id}/complete", { params: { path } }));
    let reviewed = false;
    const during = await walk(async () => {
      if (reviewed) return;
      reviewed = true;
      const r = await sdkAs(s.token).POST("/v1/sessions/{id}/review", { params: { path }, body: { rating: 5 } });
      assert.equal(r.response.status, 201, JSON.stringify(r.error));
    });
    assert.deepEqual(during, before, "a walk keeps the order of its first page");
    const after = await walk();
    assert.ok(after.indexOf(last.profileId) < before.indexOf(last.profileId), "a new walk ranks the new rating");
  });
});
