/**
 * Reviews (POST /v1/sessions/:id/review, GET /v1/tutors/:id/reviews): only the student of a
 * completed lesson without a tutor no-show, once, within 30 days; the tutor's ratingAverage and
 * ratingCount move in the same atomic step, also under concurrency.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json, tokenFor } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { DAY } from "../sessions/helpers";
import { namedStudent, pastLesson, review, reviewWorld, tutorOf } from "./world";

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface PublicReview {
  id: string;
  rating: number;
  comment: string | null;
  studentName: string;
  createdAt: number;
}

describe("POST /v1/sessions/:id/review", () => {
  it("stores the review, moves the tutor's rating, notifies the tutor and shows the first name only", async () => {
    const { tutor } = await reviewWorld();
    const lesson = await pastLesson(tutor, await namedStudent("Samira van der Berg"));
    const res = await review(lesson, { rating: 4, comment: "  Clear explanations.\r\nThanks!  " });
    expect(res.status).toBe(201);
    const body = await json<Record<string, unknown>>(res);
    expect(body).toMatchObject({ sessionId: lesson.id, tutorProfileId: tutor.tutorProfileId, rating: 4 });
    expect(body.comment).toBe("Clear explanations.\nThanks!");
    expect(await tutorOf(tutor.tutorProfileId)).toMatchObject({ ratingAverage: 4, ratingCount: 1 });

    const page = await json<Page<PublicReview>>(await call(`/v1/tutors/${tutor.tutorProfileId}/reviews`));
    expect(page.items).toEqual([
      {
        id: body.id,
        rating: 4,
        comment: "Clear explanations.\nThanks!",
        studentName: "Samira",
        createdAt: body.createdAt,
      },
    ]);
    expect(JSON.stringify(page)).not.toContain("van der Berg");

    const notes = await json<Page<{ type: string; data: Record<string, unknown> }>>(
      await call("/v1/notifications", { token: tutor.token }),
    );
    expect(notes.items.find((n) => n.type === "review_received")?.data).toEqual({
      sessionId: lesson.id,
      reviewId: body.id,
      rating: 4,
    });
  });

  it("takes one review per session: a second is 409, and of two racing one wins", async () => {
    const { tutor } = await reviewWorld();
    const lesson = await pastLesson(tutor, await createUser("student"));
    expect((await review(lesson, { rating: 5 })).status).toBe(201);
    await expectProblem(await review(lesson, { rating: 1 }), 409, "conflict");

    const racing = await pastLesson(tutor, await createUser("student"));
    const statuses = (await Promise.all([1, 2, 3, 4].map((r) => review(racing, { rating: r })))).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 409, 409, 409]);
    const rows = await env.DB.prepare("SELECT id, rating FROM reviews WHERE sessionId = ?").bind(racing.id).all();
    expect(rows.results).toHaveLength(1);
    // one review.created, for the review that won; the refused ones announced nothing
    expect(await eventTypesOf((rows.results[0] as { id: string }).id)).toEqual(["review.created"]);
    const profile = await env.DB.prepare("SELECT ratingSum, ratingCount FROM tutorProfiles WHERE id = ?")
      .bind(tutor.tutorProfileId)
      .first<{ ratingSum: number; ratingCount: number }>();
    expect(profile).toEqual({ ratingSum: 5 + (rows.results[0] as { rating: number }).rating, ratingCount: 2 });
  });

  it("counts 20 concurrent reviews of different sessions of one tutor exactly", async () => {
    const { tutor } = await reviewWorld();
    const lessons = await Promise.all(
      Array.from({ length: 20 }, async () => pastLesson(tutor, await createUser("student"))),
    );
    const ratings = lessons.map((_, i) => ((i * 7) % 5) + 1);
    const results = await Promise.all(lessons.map((l, i) => review(l, { rating: ratings[i] })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const sum = ratings.reduce((a, b) => a + b, 0);
    expect(await tutorOf(tutor.tutorProfileId)).toMatchObject({ ratingCount: 20, ratingAverage: sum / 20 });
    // the directory's current row agrees with the profile
    const listed = await env.DB.prepare(
      "SELECT ratingAverage, ratingCount FROM tutorListings WHERE tutorProfileId = ? AND subjectKey = '*' AND validTo = 9007199254740991",
    )
      .bind(tutor.tutorProfileId)
      .all();
    expect(listed.results).toEqual([{ ratingAverage: sum / 20, ratingCount: 20 }]);
  });

  it("refuses lessons that are not completed, a tutor no-show (409) and lessons ended over 30 days ago", async () => {
    const { tutor } = await reviewWorld();
    const student = await createUser("student");
    for (const status of ["scheduled", "in_progress", "cancelled"]) {
      await expectProblem(await review(await pastLesson(tutor, student, { status }), { rating: 5 }), 409, "conflict");
    }
    const tutorNoShow = await pastLesson(tutor, student, { status: "cancelled", noShow: "tutor" });
    await expectProblem(await review(tutorNoShow, { rating: 1 }), 409, "conflict");
    const oddTutorNoShow = await pastLesson(tutor, student, { noShow: "tutor" });
    await expectProblem(await review(oddTutorNoShow, { rating: 1 }), 409, "conflict");
    // a student no-show is a completed lesson without a tutor no-show: the API lets its student review it
    expect((await review(await pastLesson(tutor, student, { noShow: "student" }), { rating: 3 })).status).toBe(201);
    const old = await pastLesson(tutor, student, { endedAgoMs: 30 * DAY + 60_000 });
    await expectProblem(await review(old, { rating: 5 }), 409, "policy_window_closed");
    const lastDay = await pastLesson(tutor, student, { endedAgoMs: 30 * DAY - 60_000 });
    expect((await review(lastDay, { rating: 5 })).status).toBe(201);
    expect(await tutorOf(tutor.tutorProfileId)).toMatchObject({ ratingCount: 2, ratingAverage: 4 });
  });

  it("answers anonymous 401, another student 404, the tutor and an admin 403, bad bodies 400", async () => {
    const { tutor } = await reviewWorld();
    const lesson = await pastLesson(tutor, await createUser("student"));
    await expectProblem(await call(`/v1/sessions/${lesson.id}/review`, { body: { rating: 5 } }), 401, "unauthorized");
    await expectProblem(await review(lesson, { rating: 5 }, (await createUser("student")).token), 404, "not_found");
    await expectProblem(await review(lesson, { rating: 5 }, tutor.token), 403, "forbidden");
    // the tutor's own student-context token is a participant without the student's role
    await expectProblem(await review(lesson, { rating: 5 }, await tokenFor(tutor.id, "student")), 403, "forbidden");
    await expectProblem(await review(lesson, { rating: 5 }, (await createUser("admin")).token), 403, "forbidden");
    await expectProblem(await review({ ...lesson, id: "ses_missing" }, { rating: 5 }), 404, "not_found");
    for (const body of [
      {},
      { rating: 0 },
      { rating: 6 },
      { rating: 4.5 },
      { rating: "5" },
      { rating: 5, comment: "x".repeat(2001) },
      { rating: 5, extra: true },
    ]) {
      await expectProblem(await review(lesson, body), 400, "validation_failed");
    }
    const raw = await call(`/v1/sessions/${lesson.id}/review`, {
      token: lesson.student.token,
      rawBody: "rating=5",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectProblem(raw, 415, "unsupported_media_type");
    expect(await tutorOf(tutor.tutorProfileId)).toMatchObject({ ratingCount: 0, ratingAverage: null });
  });
});

describe("GET /v1/tutors/:id/reviews", () => {
  it("pages newest first without gaps or repeats; 404 for a tutor that is not approved", async () => {
    const { tutor } = await reviewWorld();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await review(await pastLesson(tutor, await createUser("student")), { rating: (i % 5) + 1 });
      ids.push((await json<{ id: string }>(res)).id);
    }
    const seen: PublicReview[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<PublicReview> = await json(
        await call(`/v1/tutors/${tutor.tutorProfileId}/reviews?limit=3${cursor ? `&cursor=${cursor}` : ""}`),
      );
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]] as [PublicReview, PublicReview];
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
    }
    await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}/reviews?cursor=zz`), 400, "validation_failed");
    await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}/reviews?limit=0`), 400, "validation_failed");
    await env.DB.prepare("UPDATE tutorProfiles SET status = 'suspended' WHERE id = ?").bind(tutor.tutorProfileId).run();
    await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}/reviews`), 404, "not_found");
    await expectProblem(await call("/v1/tutors/tut_missing/reviews"), 404, "not_found");
  });

  it("keeps a closed account's rating and drops its comment", async () => {
    const { tutor } = await reviewWorld();
    const lesson = await pastLesson(tutor, await namedStudent("Ola Nordmann"));
    expect((await review(lesson, { rating: 2, comment: "Too fast for me" })).status).toBe(201);
    expect((await call("/v1/me", { method: "DELETE", token: lesson.student.token })).status).toBe(204);
    const page = await json<Page<PublicReview>>(await call(`/v1/tutors/${tutor.tutorProfileId}/reviews`));
    expect(page.items).toMatchObject([{ rating: 2, comment: null, studentName: "Deleted user" }]);
    expect(await tutorOf(tutor.tutorProfileId)).toMatchObject({ ratingCount: 1, ratingAverage: 2 });
  });
});
