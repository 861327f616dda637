import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
  poll,
  type Session,
  type Student,
  type Subject,
  slotIn,
  type Tokens,
  type Tutor,
} from "./helpers.ts";

describe("authorization matrix, bad input, notifications, admin and service routes", () => {
  let admin: Tokens;
  let subject: Subject;
  let t: Tutor;
  let s: Student;
  let other: Student;
  let session: Session;
  before(async () => {
    admin = await c.login(adminEmail("authz"));
    subject = await newSubject(admin);
    t = await newTutor([subject.id], 2);
    s = await newStudent();
    other = await newStudent();
    await fund(admin, s.userId, 10);
    const r = await book(s, t, subject.id, slotIn(0.5), 60);
    assert.equal(r.status, 201, r.text);
    session = r.body;
  });

  it("anonymous callers get 401 on every user route", async () => {
    const routes: [string, string][] = [
      ["GET", "/v1/me"],
      ["GET", "/v1/sessions"],
      ["GET", `/v1/sessions/${session.id}`],
      ["POST", "/v1/sessions"],
      ["GET", "/v1/credits/balance"],
      ["GET", "/v1/credits/ledger"],
      ["GET", "/v1/credits/orders"],
      ["GET", "/v1/notifications"],
      ["GET", "/v1/notifications/unread-count"],
      ["GET", "/v1/reports"],
      ["GET", "/v1/admin/users"],
      ["POST", "/v1/admin/subjects"],
    ];
    for (const [method, path] of routes) {
      await expectProblem(
        await c.call(path, { method, ...(method === "POST" ? { body: {} } : {}) }),
        401,
        "unauthorized",
      );
    }
  });

  it("wrong context is 403: students on admin and tutor routes, tutors on student routes", async () => {
    const asStudent: [string, string, unknown?][] = [
      ["GET", "/v1/admin/users"],
      ["GET", "/v1/admin/sessions"],
      ["GET", "/v1/admin/recordings?status=failed"],
      ["GET", `/v1/admin/users/${s.userId}/ledger`],
      ["POST", "/v1/admin/subjects", { name: "X", slug: "x-forbidden" }],
      ["PUT", "/v1/me/tutor-profile/availability", { timezone: "UTC", weekly: [] }],
      ["PATCH", "/v1/me/tutor-profile", { bio: "hi" }],
    ];
    for (const [method, path, body] of asStudent) {
      await expectProblem(await c.call(path, { method, token: s.token, body }), 403, "forbidden");
    }
    for (const path of ["/v1/credits/balance", "/v1/credits/ledger", "/v1/reports"]) {
      await expectProblem(await c.call(path, { token: t.token }), 403, "forbidden");
    }
    await expectProblem(
      await c.call("/v1/sessions", {
        token: t.token,
        body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime: slotIn(40), durationMinutes: 60 },
      }),
      403,
      "forbidden",
    );
    // admins are not participants
    await expectProblem(
      await c.call(`/v1/sessions/${session.id}/join`, { token: admin.accessToken }),
      403,
      "forbidden",
    );
  });

  it("another student's session, recording, report and notifications are 404", async () => {
    for (const path of [
      `/v1/sessions/${session.id}`,
      `/v1/sessions/${session.id}/join`,
      `/v1/sessions/${session.id}/recording`,
      `/v1/sessions/${session.id}/report`,
    ]) {
      await expectProblem(await c.call(path, { token: other.token }), 404, "not_found");
    }
    await expectProblem(
      await c.call(`/v1/sessions/${session.id}/cancel`, { token: other.token, body: {} }),
      404,
      "not_found",
    );
    const mine = await c.ok<{ items: Session[] }>("/v1/sessions", { token: other.token });
    assert.equal(mine.items.length, 0);
    const notes = await c.ok<{ items: { id: string }[] }>("/v1/notifications", { token: s.token });
    const first = notes.items[0];
    assert.ok(first);
    await expectProblem(
      await c.call(`/v1/notifications/${first.id}/read`, { method: "POST", token: other.token }),
      404,
      "not_found",
    );
    // participants and admins see it
    assert.equal((await c.call(`/v1/sessions/${session.id}`, { token: t.token })).status, 200);
    assert.equal((await c.call(`/v1/sessions/${session.id}`, { token: admin.accessToken })).status, 200);
  });

  it("bad input: 400 malformed, 413 too large, 415 wrong type, 405 wrong method, 404 unknown route", async () => {
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: s.token,
        raw: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: s.token,
        raw: '{"name":"x"}',
        headers: { "content-type": "text/plain" },
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await c.call("/v1/me", { method: "PATCH", token: s.token, body: { name: "x".repeat(70 * 1024) } }),
      413,
      "payload_too_large",
    );
    for (const q of ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor"]) {
      await expectProblem(await c.call(`/v1/notifications?${q}`, { token: s.token }), 400, "validation_failed");
    }
    await expectProblem(
      await c.call("/v1/me/tutor-profile/avatar", {
        method: "PUT",
        token: t.token,
        raw: "GIF89a",
        headers: { "content-type": "image/gif" },
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await c.call("/v1/me/tutor-profile/avatar", {
        method: "PUT",
        token: t.token,
        raw: new Uint8Array(2 * 1024 * 1024 + 1),
        headers: { "content-type": "image/png" },
      }),
      413,
      "payload_too_large",
    );
    await expectProblem(await c.call("/v1/subjects", { method: "DELETE" }), 405, "method_not_allowed");
    await expectProblem(await c.call("/v1/nope"), 404, "not_found");
    const echoed = await c.call("/v1/health", { headers: { "x-request-id": "e2e-request-123" } });
    assert.equal(echoed.headers.get("x-request-id"), "e2e-request-123");
    assert.ok((await c.call("/v1/health")).headers.get("x-request-id"));
  });

  it("tutor avatars: upload, public bytes", async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const r = await c.call<{ avatarUrl: string | null }>("/v1/me/tutor-profile/avatar", {
      method: "PUT",
      token: t.token,
      raw: png,
      headers: { "content-type": "image/png" },
    });
    assert.equal(r.status, 200, r.text);
    const img = await fetch(`${c.apiUrl}/v1/tutors/${t.profileId}/avatar`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get("content-type"), "image/png");
    assert.deepEqual(new Uint8Array(await img.arrayBuffer()), png);
  });

  it("notifications: list, unread filter, read one, read all", async () => {
    const all = await c.ok<{ items: { id: string; read: boolean; type: string }[] }>("/v1/notifications", {
      token: s.token,
    });
    assert.ok(all.items.some((n) => n.type === "session_scheduled"));
    const count = (await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count;
    assert.ok(count >= 1);
    const first = all.items.find((n) => !n.read);
    assert.ok(first);
    assert.equal((await c.call(`/v1/notifications/${first.id}/read`, { method: "POST", token: s.token })).status, 204);
    assert.equal(
      (await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count,
      count - 1,
    );
    const unread = await c.ok<{ items: { id: string }[] }>("/v1/notifications?unread=true", { token: s.token });
    assert.ok(!unread.items.some((n) => n.id === first.id));
    assert.equal((await c.call("/v1/notifications/read-all", { method: "POST", token: s.token })).status, 204);
    assert.equal((await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count, 0);
  });

  it("the cron sends the 1 h reminder once, even when run twice", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`);
      assert.equal(r.status, 200);
    }
    const reminders = await poll("a reminder", 15_000, async () => {
      const n = await c.ok<{ items: { type: string; data: { sessionId?: string } }[] }>("/v1/notifications", {
        token: s.token,
      });
      const found = n.items.filter((x) => x.type === "session_reminder" && x.data.sessionId === session.id);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(reminders.length, 1);
  });

  it("admin back office lists users, sessions and ledgers; admin cancellation refunds", async () => {
    const tutors = await c.ok<{ items: { id: string }[] }>("/v1/admin/users?context=tutor&limit=100", {
      token: admin.accessToken,
    });
    assert.ok(Array.isArray(tutors.items));
    const sessions = await c.ok<{ items: { id: string }[] }>(
      `/v1/admin/sessions?status=scheduled&from=${session.startTime}&to=${session.startTime + 1}`,
      { token: admin.accessToken },
    );
    assert.ok(sessions.items.some((x) => x.id === session.id));
    const ledger = await c.ok<{ items: { source: string }[] }>(`/v1/admin/users/${s.userId}/ledger`, {
      token: admin.accessToken,
    });
    assert.deepEqual(
      ledger.items.map((e) => e.source),
      ["session_booking", "manual_adjustment"],
    );
    const cancelled = await c.ok<Session>(`/v1/sessions/${session.id}/cancel`, {
      token: admin.accessToken,
      body: { reason: "admin" },
    });
    assert.equal(cancelled.status, "cancelled");
    assert.equal((await c.ok<{ balance: number }>("/v1/credits/balance", { token: s.token })).balance, 10);
  });

  it("service routes: health, the OpenAPI document covers API.md, docs page", async () => {
    const health = await c.ok<{ ok: boolean; version: string }>("/v1/health");
    assert.equal(health.ok, true);
    const doc = await c.ok<{ openapi: string; paths: Record<string, unknown> }>("/v1/openapi.json");
    assert.match(doc.openapi, /^3\.1/);
    const paths = Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, ":id"));
    let contract = "";
    try {
      contract = readFileSync(new URL("../../shared/API.md", import.meta.url), "utf8");
    } catch {
      // API.md lives next to the repository; without it, check a fixed sample
      contract = "| GET | /v1/health |\n| POST | /v1/sessions |\n| GET | /v1/sessions/:id/report |";
    }
    const documented = [...contract.matchAll(/^\| (?:GET|POST|PUT|PATCH|DELETE) \| (\/v1\/[^ |]+) \|/gm)].map((m) =>
      (m[1] as string).replace(/:[a-zA-Z]+/g, ":id"),
    );
    assert.ok(documented.length >= 3);
    // the document and its viewer are not part of themselves
    const missing = documented.filter((p) => !paths.includes(p) && p !== "/v1/openapi.json" && p !== "/v1/docs");
    assert.deepEqual(missing, [], `missing from /v1/openapi.json: ${missing.join(", ")}`);
    const docs = await fetch(`${c.apiUrl}/v1/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /text\/html/);
  });
});
