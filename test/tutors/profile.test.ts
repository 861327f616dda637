import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json, tokenFor } from "../helpers/api";
import { createTutor, insertSubject, type TutorProfileBody } from "./fixtures";

const profilePath = "/v1/me/tutor-profile";

describe("POST /v1/me/tutor-profile", () => {
  it("creates the profile (201), links it to the user and mirrors the subjects", async () => {
    const math = await insertSubject("Mathematics");
    const art = await insertSubject("Art history");
    const user = await createUser("student");
    const res = await call(profilePath, {
      token: user.token,
      body: {
        displayName: " Ada ",
        bio: "Numbers and pictures",
        subjectIds: [math.id, art.id, math.id],
        hourlyCreditsPrice: 3,
      },
    });
    expect(res.status).toBe(201);
    const profile = await json<TutorProfileBody>(res);
    expect(profile).toEqual({
      id: expect.any(String),
      userId: user.id,
      displayName: "Ada",
      bio: "Numbers and pictures",
      subjects: [art, math], // by name
      subjectIds: [math.id, art.id],
      hourlyCreditsPrice: 3,
      avatarUrl: null,
      ratingAverage: null,
      ratingCount: 0,
      timezone: null,
      status: "approved",
      statusReason: null,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });

    const me = await json<{ tutorProfileId: string; context: string }>(await call("/v1/me", { token: user.token }));
    expect(me.tutorProfileId).toBe(profile.id);
    expect(me.context).toBe("student");
    const links = await env.DB.prepare(
      "SELECT subjectId FROM tutorSubjects WHERE tutorProfileId = ? ORDER BY subjectId",
    )
      .bind(profile.id)
      .all<{ subjectId: string }>();
    expect(links.results.map((r) => r.subjectId)).toEqual([math.id, art.id].sort());
    const row = await env.DB.prepare("SELECT subjects FROM tutorProfiles WHERE id = ?")
      .bind(profile.id)
      .first<{ subjects: string }>();
    expect(JSON.parse(row?.subjects ?? "null")).toEqual([math.id, art.id]);

    // The user can now switch to the tutor context and read the profile back.
    const switched = await call("/v1/me/context", { token: user.token, body: { context: "tutor" } });
    expect(switched.status).toBe(200);
    const { accessToken } = await json<{ accessToken: string }>(switched);
    expect(await json(await call(profilePath, { token: accessToken }))).toEqual(profile);
  });

  it("is 401 without a token", async () => {
    const subject = await insertSubject();
    const res = await call(profilePath, {
      body: { displayName: "A", bio: "", subjectIds: [subject.id], hourlyCreditsPrice: 1 },
    });
    await expectProblem(res, 401, "unauthorized");
  });

  it("is 409 when the user already has a tutor profile, also under concurrency", async () => {
    const subject = await insertSubject();
    const tutor = await createTutor({ subjectIds: [subject.id] });
    const body = { displayName: "Again", bio: "", subjectIds: [subject.id], hourlyCreditsPrice: 1 };
    await expectProblem(await call(profilePath, { token: tutor.user.token, body }), 409, "conflict");

    const racer = await createUser("student");
    const results = await Promise.all([1, 2, 3].map(() => call(profilePath, { token: racer.token, body })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM tutorProfiles WHERE userId = ?")
      .bind(racer.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it("rejects unknown subject ids with 400 naming them, and creates nothing", async () => {
    const subject = await insertSubject();
    const user = await createUser("student");
    const res = await call(profilePath, {
      token: user.token,
      body: { displayName: "A", bio: "", subjectIds: [subject.id, "sub_nope"], hourlyCreditsPrice: 2 },
    });
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.errors).toEqual([{ path: "subjectIds.1", message: expect.stringContaining("sub_nope") }]);
    const me = await json<{ tutorProfileId: string | null }>(await call("/v1/me", { token: user.token }));
    expect(me.tutorProfileId).toBeNull();
  });

  it("rejects invalid input and unknown fields with 400", async () => {
    const subject = await insertSubject();
    const user = await createUser("student");
    const valid = { displayName: "A", bio: "", subjectIds: [subject.id], hourlyCreditsPrice: 2 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, hourlyCreditsPrice: 0 }, "hourlyCreditsPrice"],
      [{ ...valid, hourlyCreditsPrice: -3 }, "hourlyCreditsPrice"],
      [{ ...valid, hourlyCreditsPrice: 1.5 }, "hourlyCreditsPrice"],
      [{ ...valid, hourlyCreditsPrice: "2" }, "hourlyCreditsPrice"],
      [{ ...valid, subjectIds: [] }, "subjectIds"],
      [{ ...valid, displayName: "" }, "displayName"],
      [{ ...valid, bio: undefined }, "bio"],
      [{ ...valid, userId: "usr_other" }, "userId"],
      [{ ...valid, avatarS3Key: "avatars/x" }, "avatarS3Key"],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(
        await call(profilePath, { token: user.token, body }),
        400,
        "validation_failed",
      );
      expect(problem.errors, path).toContainEqual({ path, message: expect.any(String) });
    }
  });

  it("rejects a non-JSON body with 415", async () => {
    const user = await createUser("student");
    const res = await call(profilePath, {
      method: "POST",
      token: user.token,
      rawBody: "displayName=A",
      headers: { "content-type": "text/plain" },
    });
    await expectProblem(res, 415, "unsupported_media_type");
  });
});

describe("PATCH /v1/me/tutor-profile", () => {
  it("updates the given fields and replaces the subjects when given", async () => {
    const [a, b, c] = [
      await insertSubject("A subject"),
      await insertSubject("B subject"),
      await insertSubject("C subject"),
    ];
    const tutor = await createTutor({ subjectIds: [a.id, b.id], displayName: "Old", hourlyCreditsPrice: 2 });

    const renamed = await call(profilePath, { method: "PATCH", token: tutor.token, body: { displayName: "New" } });
    expect(renamed.status).toBe(200);
    const afterRename = await json<TutorProfileBody>(renamed);
    expect(afterRename).toMatchObject({ displayName: "New", hourlyCreditsPrice: 2, subjectIds: [a.id, b.id] });
    expect(afterRename.bio).toBe(tutor.profile.bio);

    const res = await call(profilePath, {
      method: "PATCH",
      token: tutor.token,
      body: { subjectIds: [c.id, b.id], hourlyCreditsPrice: 7, bio: "Updated" },
    });
    expect(res.status).toBe(200);
    const updated = await json<TutorProfileBody>(res);
    expect(updated).toMatchObject({
      displayName: "New",
      bio: "Updated",
      hourlyCreditsPrice: 7,
      subjectIds: [c.id, b.id],
      subjects: [b, c],
    });
    expect(updated.updatedAt).toBeGreaterThanOrEqual(tutor.profile.updatedAt);
    const links = await env.DB.prepare("SELECT subjectId FROM tutorSubjects WHERE tutorProfileId = ?")
      .bind(tutor.profile.id)
      .all<{ subjectId: string }>();
    expect(links.results.map((r) => r.subjectId).sort()).toEqual([b.id, c.id].sort());
    expect(await json(await call(`/v1/tutors/${tutor.profile.id}`))).toMatchObject({ subjects: [b, c] });
  });

  it("returns the profile unchanged for an empty body", async () => {
    const subject = await insertSubject();
    const tutor = await createTutor({ subjectIds: [subject.id] });
    const res = await call(profilePath, { method: "PATCH", token: tutor.token, body: {} });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(tutor.profile);
  });

  it("is 401 anonymous, 403 for a student token, 404 for a tutor token without a profile", async () => {
    await expectProblem(await call(profilePath, { method: "PATCH", body: { bio: "x" } }), 401, "unauthorized");
    const subject = await insertSubject();
    const tutor = await createTutor({ subjectIds: [subject.id] });
    await expectProblem(
      await call(profilePath, { method: "PATCH", token: tutor.user.token, body: { bio: "x" } }),
      403,
      "forbidden",
    );
    const stranger = await createUser("student");
    const token = await tokenFor(stranger.id, "tutor");
    await expectProblem(await call(profilePath, { method: "PATCH", token, body: { bio: "x" } }), 404, "not_found");
    await expectProblem(await call(profilePath, { token }), 404, "not_found");
  });

  it("rejects unknown subjects, invalid values and unknown fields with 400 and changes nothing", async () => {
    const subject = await insertSubject();
    const tutor = await createTutor({ subjectIds: [subject.id] });
    const cases: [Record<string, unknown>, string][] = [
      [{ subjectIds: ["sub_missing"] }, "subjectIds.0"],
      [{ subjectIds: [] }, "subjectIds"],
      [{ hourlyCreditsPrice: 0 }, "hourlyCreditsPrice"],
      [{ timezone: "UTC" }, "timezone"],
      [{ userId: "usr_x" }, "userId"],
    ];
    for (const [body, path] of cases) {
      const res = await call(profilePath, { method: "PATCH", token: tutor.token, body });
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(problem.errors, path).toContainEqual({ path, message: expect.any(String) });
    }
    expect(await json(await call(profilePath, { token: tutor.token }))).toEqual(tutor.profile);
  });
});

describe("GET /v1/me/tutor-profile", () => {
  it("is 401 anonymous and 403 for a student token", async () => {
    await expectProblem(await call(profilePath), 401, "unauthorized");
    const student = await createUser("student");
    await expectProblem(await call(profilePath, { token: student.token }), 403, "forbidden");
  });
});
