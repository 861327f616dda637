/**
 * The tutor's review of a lesson report against wrangler dev and the provider emulator: the model's
 * draft is the tutor's, the student gets 404; the tutor edits, regenerates with instructions (the
 * emulated model quotes them), publishes; only then does the student read it and get report_ready.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { wav } from "../tools/offline/client.ts";
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
  poll,
  start,
  type Tokens,
} from "./helpers.ts";

interface Report {
  id: string;
  summary: string;
  topicsCovered: string[];
  nextSteps: string[];
  status: "draft" | "published";
  version: number;
  editedByTutor: boolean;
  publishedAt: number | null;
}
interface Version {
  version: number;
  source: string;
  instructions: string | null;
}

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
    const booked = await book(s, t, subject.id, nextQuarter(), 60);
    assert.equal(booked.status, 201, booked.text);
    const sessionId = booked.body.id;
    await start(t, sessionId);
    const up = await c.call(`/v1/sessions/${sessionId}/recording`, {
      method: "PUT",
      token: t.token,
      raw: wav(1),
      headers: { "content-type": "audio/wav" },
    });
    assert.equal(up.status, 202, up.text);
    const reportPath = `/v1/sessions/${sessionId}/report`;
    const draft = await poll("the report draft", 45_000, async () => {
      const r = await c.call<Report>(reportPath, { token: t.token });
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(draft.status, "draft");
    assert.equal(draft.version, 1);
    await expectProblem(await c.call(reportPath, { token: s.token }), 404, "not_found");
    await expectProblem(await c.call(`${reportPath}/versions`, { token: s.token }), 404, "not_found");
    const drafted = await poll("report_draft_ready", 10_000, async () => {
      const n = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: t.token });
      return n.items.some((x) => x.type === "report_draft_ready") ? n : undefined;
    });
    assert.ok(drafted);

    // the tutor edits...
    const edited = await c.ok<Report>(reportPath, {
      method: "PATCH",
      token: t.token,
      body: { nextSteps: ["Exercises 3 to 7 on page 12"] },
    });
    assert.equal(edited.version, 2);
    assert.equal(edited.editedByTutor, true);
    await expectProblem(
      await c.call(reportPath, { method: "PATCH", token: t.token, body: { summary: "" }, expectViolation: true }),
      400,
      "validation_failed",
    );

    // ...regenerates with instructions, which reach the model...
    const instructions = "Praise the progress on factoring.";
    const regen = await c.call(`${reportPath}/regenerate`, { token: t.token, body: { instructions } });
    assert.equal(regen.status, 202, regen.text);
    const regenerated = await poll("the regenerated draft", 30_000, async () => {
      const r = await c.call<Report>(reportPath, { token: t.token });
      return r.status === 200 && r.body.version === 3 ? r.body : undefined;
    });
    assert.match(regenerated.summary, /Praise the progress on factoring/);
    assert.equal(regenerated.editedByTutor, false);
    const versions = await c.ok<{ items: Version[] }>(`${reportPath}/versions`, { token: t.token });
    assert.deepEqual(
      versions.items.map((v) => [v.version, v.source, v.instructions]),
      [
        [3, "model", instructions],
        [2, "tutor", null],
        [1, "model", null],
      ],
    );
    await expectProblem(await c.call(reportPath, { token: s.token }), 404, "not_found");

    // ...and publishes: now the student reads it and is told
    const published = await c.ok<Report>(`${reportPath}/publish`, { method: "POST", token: t.token });
    assert.equal(published.status, "published");
    const seen = await c.ok<Report>(reportPath, { token: s.token });
    assert.equal(seen.summary, regenerated.summary);
    const mine = await c.ok<{ items: Report[] }>("/v1/reports", { token: s.token });
    assert.deepEqual(
      mine.items.map((r) => r.id),
      [draft.id],
    );
    const ready = await poll("report_ready", 10_000, async () => {
      const n = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: s.token });
      return n.items.some((x) => x.type === "report_ready") ? n : undefined;
    });
    assert.ok(ready);
    await expectProblem(await c.call(`${reportPath}/publish`, { method: "POST", token: t.token }), 409, "conflict");
    await expectProblem(await c.call(`${reportPath}/regenerate`, { method: "POST", token: t.token }), 409, "conflict");
  });
});
