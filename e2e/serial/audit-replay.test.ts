/**
 * A dead letter replayed, in the audit log, black box: while every Agora call is refused (400, a
 * permanent failure) a booking's video-room job becomes a dead letter at once; with Agora back, the
 * admin replays it, the room appears, and the audit log shows the replay once. Serial: the injected
 * failure hits every room request, so no other test may book meanwhile.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { unwrap } from "../../sdk/src/index.ts";
import {
  adminEmail,
  c,
  fund,
  joinable,
  newStudent,
  newSubject,
  newTutor,
  poll,
  rand,
  sdkAs,
  slotIn,
  type Tokens,
} from "../helpers.ts";

const control = (path: string, body: unknown) =>
  c.emulator(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("dead-letter replay in the audit log", () => {
  let admin: Tokens;
  before(async () => {
    admin = await c.login(adminEmail("replay"));
  });
  after(async () => {
    await control("/__control/clear-failures", {});
  });

  it("a replayed video-room job creates the room and is logged once", async () => {
    const subject = await newSubject(admin);
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    await control("/__control/fail", { path: "/v1/channel", status: 400, times: 1000 });
    const booked = await sdkAs(s.token).POST("/v1/sessions", {
      body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime: slotIn(30), durationMinutes: 60 },
    });
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error ?? null));
    const sessionId = unwrap(booked).id;
    const asAdmin = sdkAs(admin.accessToken);
    const letter = await poll("the room job's dead letter", 30_000, async () => {
      const page = unwrap(await asAdmin.GET("/v1/admin/dead-letters", { params: { query: { limit: 100 } } }));
      return page.items.find((d) => d.type === "video.create_room" && d.body.includes(sessionId));
    });
    await control("/__control/clear-failures", {});

    const rid = `e2e-replay-${rand()}${rand()}`;
    const replay = await asAdmin.POST("/v1/admin/dead-letters/{id}/replay", {
      params: { path: { id: letter.id } },
      headers: { "x-request-id": rid },
    });
    assert.equal(replay.response.status, 202, JSON.stringify(replay.error ?? null));
    assert.equal(unwrap(replay).replayCount, 1);
    await joinable(s.token, sessionId);

    const log = unwrap(await asAdmin.GET("/v1/admin/audit-log", { params: { query: { targetId: letter.id } } }));
    assert.deepEqual(
      log.items.map((r) => [r.action, r.actorUserId, r.requestId, r.details.type, r.details.replayCount]),
      [["dead_letter.replay", admin.user.id, rid, "video.create_room", 1]],
    );
  });
});
