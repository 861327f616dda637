/**
 * The tutor's review of a lesson report against wrangler dev and the provider emulator: the model's
 * draft is the tutor's, the student gets 404; the tutor edits, regenerates with instructions (the
 * emulated model quotes them), publishes; only then does the student read it and get report_ready.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { unwrap } from "../sdk/src/index.ts";
import { wav } from "../tools/offline/client.ts";
import {
  adminEmail,
  c,
  expectProblem,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  poll,
  sdkAs,
  start,
  type Tokens,
} from "./helpers.ts";

describe("lesson report review", () => {
  let admin: Tokens;
  before(async () => {
    admin = await c.login(adminEmail("rec"));
  });

  it("tutor sees the draft, the student 404; edit, regenerate with instructions, publish; the student reads it", async () => {
    const subject = await newSubject(admin);
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const asTutor = sdkAs(t.token);
    const asStudent = sdkAs(s.token);
    const booked = await asStudent.POST("/v1/sessions", {
      body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime: nextQuarter(), durationMinutes: 60 },
    });
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
    const sessionId = unwrap(booked).id;
    await start(t, sessionId);
    // raw audio bytes: straight to the API, not through the SDK's JSON proxy
    const up = await c.call(`/v1/sessions/${sessionId}/recording`, {
      method: "PUT",
      token: t.token,
      raw: wav(1),
      headers: { "content-type": "audio/wav" },
    });
    assert.equal(up.status, 202, up.text);
    const reportPath = `/v1/sessions/${sessionId}/report`;
    const path = { id: sessionId };
    const draft = await poll("the report draft", 45_000, async () => {
      const r = await asTutor.GET("/v1/sessions/{id}/report", { params: { path } });
      return r.response.status === 200 ? r.data : undefined;
    });
    assert.equal(draft.status, "draft");
    assert.equal(draft.version, 1);
    expectProblemOf(await asStudent.GET("/v1/sessions/{id}/report", { params: { path } }), 404, "not_found");
    expectProblemOf(await asStudent.GET("/v1/sessions/{id}/report/versions", { params: { path } }), 404, "not_found");
    const drafted = await poll("report_draft_ready", 10_000, async () => {
      const n = unwrap(await asTutor.GET("/v1/notifications"));
      return n.items.some((x) => x.type === "report_draft_ready") ? n : undefined;
    });
    assert.ok(drafted);

    // the tutor edits...
    const edited = unwrap(
      await asTutor.PATCH("/v1/sessions/{id}/report", {
        params: { path },
        body: { nextSteps: ["Exercises 3 to 7 on page 12"] },
      }),
    );
    assert.equal(edited.version, 2);
    assert.equal(edited.editedByTutor, true);
    await expectProblem(
      await c.call(reportPath, { method: "PATCH", token: t.token, body: { summary: "" }, expectViolation: true }),
      400,
      "validation_failed",
    );

    // ...regenerates with instructions, which reach the model...
    const instructions = "Praise the progress on factoring.";
    const regen = await asTutor.POST("/v1/sessions/{id}/report/regenerate", {
      params: { path },
      body: { instructions },
    });
    assert.equal(regen.response.status, 202, JSON.stringify(regen.error));
    const regenerated = await poll("the regenerated draft", 30_000, async () => {
      const r = await asTutor.GET("/v1/sessions/{id}/report", { params: { path } });
      return r.response.status === 200 && r.data?.version === 3 ? r.data : undefined;
    });
    assert.match(regenerated.summary, /Praise the progress on factoring/);
    assert.equal(regenerated.editedByTutor, false);
    const versions = unwrap(await asTutor.GET("/v1/sessions/{id}/report/versions", { params: { path } }));
    assert.deepEqual(
      versions.items.map((v) => [v.version, v.source, v.instructions]),
      [
        [3, "model", instructions],
        [2, "tutor", null],
        [1, "model", null],
      ],
    );
    expectProblemOf(await asStudent.GET("/v1/sessions/{id}/report", { params: { path } }), 404, "not_found");

    // ...and publishes: now the student reads it and is told
    const published = unwrap(await asTutor.POST("/v1/sessions/{id}/report/publish", { params: { path } }));
    assert.equal(published.status, "published");
    const seen = unwrap(await asStudent.GET("/v1/sessions/{id}/report", { params: { path } }));
    assert.equal(seen.summary, regenerated.summary);
    const mine = unwrap(await asStudent.GET("/v1/reports"));
    assert.deepEqual(
      mine.items.map((r) => r.id),
      [draft.id],
    );
    const ready = await poll("report_ready", 10_000, async () => {
      const n = unwrap(await asStudent.GET("/v1/notifications"));
      return n.items.some((x) => x.type === "report_ready") ? n : undefined;
    });
    assert.ok(ready);
    expectProblemOf(await asTutor.POST("/v1/sessions/{id}/report/publish", { params: { path } }), 409, "conflict");
    expectProblemOf(await asTutor.POST("/v1/sessions/{id}/report/regenerate", { params: { path } }), 409, "conflict");
  });
});
