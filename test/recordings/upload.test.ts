import { describe, expect, it } from "vitest";
import { storeAudio, storeAudioChunked } from "../../src/modules/recordings/service";
import { call, createUser, env, eventually, expectProblem, json } from "../helpers/api";
import { createTutor } from "../sessions/helpers";
import { audio, recordingOf, recWorld, upload } from "./helpers";

describe("PUT /v1/sessions/:id/recording", () => {
  it("enforces who may upload and read", async () => {
    const w = await recWorld();
    const otherStudent = await createUser("student");
    const otherTutor = await createTutor(w.subject.id);
    const admin = await createUser("admin");
    const body = () => audio(crypto.randomUUID());

    await expectProblem(await upload(w.sessionId, undefined, body()), 401, "unauthorized");
    await expectProblem(await upload(w.sessionId, otherStudent.token, body()), 404, "not_found");
    await expectProblem(await upload(w.sessionId, otherTutor.token, body()), 404, "not_found");
    await expectProblem(await upload(w.sessionId, w.student.token, body()), 403, "forbidden");
    await expectProblem(await upload("ses_missing", w.tutor.token, body()), 404, "not_found");

    // nothing uploaded yet
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/recording`, { token: w.tutor.token }),
      404,
      "not_found",
    );
    await expectProblem(await call(`/v1/sessions/${w.sessionId}/report`, { token: w.student.token }), 404, "not_found");

    const res = await upload(w.sessionId, admin.token, body(), "audio/ogg; codecs=opus");
    expect(res.status).toBe(202);
    const { id } = await json<{ id: string }>(res);

    for (const token of [w.student.token, w.tutor.token, admin.token]) {
      const r = await call(`/v1/sessions/${w.sessionId}/recording`, { token });
      expect(r.status).toBe(200);
      expect(await json(r)).toMatchObject({ id, sessionId: w.sessionId, createdAt: expect.any(Number) });
    }
    await expectProblem(await call(`/v1/sessions/${w.sessionId}/recording`), 401, "unauthorized");
    for (const token of [otherStudent.token, otherTutor.token]) {
      await expectProblem(await call(`/v1/sessions/${w.sessionId}/recording`, { token }), 404, "not_found");
      await expectProblem(await call(`/v1/sessions/${w.sessionId}/report`, { token }), 404, "not_found");
    }
    await expectProblem(await call("/v1/reports", { token: w.tutor.token }), 403, "forbidden");
    await expectProblem(await call("/v1/reports"), 401, "unauthorized");
    const empty = await json(await call("/v1/reports", { token: otherStudent.token }));
    expect(empty).toEqual({ items: [], nextCursor: null });
  });

  it("validates the session state and the body", async () => {
    const scheduled = await recWorld("scheduled");
    await expectProblem(await upload(scheduled.sessionId, scheduled.tutor.token, audio("x")), 409, "conflict");

    const w = await recWorld();
    await expectProblem(
      await upload(w.sessionId, w.tutor.token, audio("x"), "video/mp4"),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await upload(w.sessionId, w.tutor.token, audio("x"), "application/json"),
      415,
      "unsupported_media_type",
    );
    await expectProblem(await upload(w.sessionId, w.tutor.token, new Uint8Array(0)), 400, "validation_failed");
    const tooBig = await call(`/v1/sessions/${w.sessionId}/recording`, {
      method: "PUT",
      token: w.tutor.token,
      rawBody: new Uint8Array(16),
      headers: { "content-type": "audio/webm", "content-length": String(209_715_201) },
    });
    await expectProblem(tooBig, 413, "payload_too_large");
    expect(await recordingOf(w.sessionId, w.tutor.token)).toBeUndefined();
  });

  it("stops a stream that outgrows the limit (413) and stores nothing", async () => {
    const key = `recordings/test/${crypto.randomUUID()}`;
    const chunks = [new Uint8Array(60), new Uint8Array(60)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    await expect(storeAudio(env.BUCKET, key, stream, 100, 100, "audio/webm")).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect(await env.BUCKET.head(key)).toBeNull();

    const short = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.close();
      },
    });
    await expect(storeAudio(env.BUCKET, key, short, 50, 100, "audio/webm")).rejects.toMatchObject({
      code: "validation_failed",
    });
    expect(await env.BUCKET.head(key)).toBeNull();

    const ok = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(40));
        controller.enqueue(new Uint8Array(40));
        controller.close();
      },
    });
    await storeAudio(env.BUCKET, key, ok, 80, 100, "audio/webm");
    expect((await env.BUCKET.head(key))?.size).toBe(80);
  });

  it("streams a body without Content-Length through a multipart upload, counting it", async () => {
    const key = `recordings/test/${crypto.randomUUID()}`;
    const streamOf = (sizes: number[]) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const n of sizes) controller.enqueue(new Uint8Array(n).fill(7));
          controller.close();
        },
      });
    const minPart = 5 * 1024 * 1024;
    expect(
      await storeAudioChunked(
        env.BUCKET,
        key,
        streamOf([3 * 1024 * 1024, 3 * 1024 * 1024, 1000]),
        20_000_000,
        "audio/wav",
        minPart,
      ),
    ).toBe(6 * 1024 * 1024 + 1000);
    const stored = await env.BUCKET.get(key);
    expect(stored?.size).toBe(6 * 1024 * 1024 + 1000);
    expect(stored?.httpMetadata?.contentType).toBe("audio/wav");
    await stored?.arrayBuffer();

    const big = `recordings/test/${crypto.randomUUID()}`;
    await expect(storeAudioChunked(env.BUCKET, big, streamOf([60, 60]), 100, "audio/wav")).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect(await env.BUCKET.head(big)).toBeNull();
    await expect(storeAudioChunked(env.BUCKET, big, streamOf([]), 100, "audio/wav")).rejects.toMatchObject({
      code: "validation_failed",
    });
  });

  it("accepts an upload without Content-Length over HTTP", async () => {
    const w = await recWorld("completed");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("RIFF"));
        controller.enqueue(new Uint8Array(2048));
        controller.close();
      },
    });
    const res = await call(`/v1/sessions/${w.sessionId}/recording`, {
      method: "PUT",
      token: w.tutor.token,
      rawBody: body,
      headers: { "content-type": "audio/wav" },
    });
    expect(res.status).toBe(202);
    const { id } = await json<{ id: string }>(res);
    expect((await env.BUCKET.head(`recordings/${w.sessionId}/${id}`))?.size).toBe(2052);
  });

  it("a second upload replaces the first", async () => {
    const w = await recWorld("completed");
    const first = await json<{ id: string }>(await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID())));
    const second = await json<{ id: string }>(await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID())));
    expect(second.id).not.toBe(first.id);
    expect((await recordingOf(w.sessionId, w.student.token))?.id).toBe(second.id);
    const rows = await env.DB.prepare("SELECT id FROM sessionRecordings WHERE sessionId = ?")
      .bind(w.sessionId)
      .all<{ id: string }>();
    expect(rows.results.map((r) => r.id)).toEqual([second.id]);
    await eventually(async () =>
      (await env.BUCKET.head(`recordings/${w.sessionId}/${first.id}`)) === null ? true : undefined,
    );
    expect(await env.BUCKET.head(`recordings/${w.sessionId}/${second.id}`)).not.toBeNull();
  });
});

describe("at most 3 recording uploads per session (each starts a paid transcription)", () => {
  const uploadState = async (sessionId: string) => {
    const rows = await env.DB.prepare("SELECT id, uploadCount FROM sessionRecordings WHERE sessionId = ?")
      .bind(sessionId)
      .all<{ id: string; uploadCount: number }>();
    const objects = (await env.BUCKET.list({ prefix: `recordings/${sessionId}/` })).objects.map((o) => o.key);
    return { rows: rows.results, objects };
  };

  it("counts each upload; the 4th is 409 and stores or replaces nothing", async () => {
    const w = await recWorld("completed");
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID()));
      expect(res.status, `upload ${i}`).toBe(202);
      ids.push((await json<{ id: string }>(res)).id);
      expect((await uploadState(w.sessionId)).rows).toEqual([{ id: ids.at(-1), uploadCount: i }]);
    }
    const marker = crypto.randomUUID();
    const fourth = await upload(w.sessionId, w.tutor.token, audio(marker));
    const problem = await expectProblem(fourth, 409, "conflict");
    expect(String(problem.detail)).toMatch(/3 recording uploads/);
    // an admin is held to the same limit
    const admin = await createUser("admin");
    await expectProblem(await upload(w.sessionId, admin.token, audio(marker)), 409, "conflict");
    await eventually(async () => {
      const s = await uploadState(w.sessionId);
      return s.objects.length === 1 ? s : undefined;
    });
    const state = await uploadState(w.sessionId);
    expect(state.rows).toEqual([{ id: ids[2], uploadCount: 3 }]);
    expect(state.objects).toEqual([`recordings/${w.sessionId}/${ids[2]}`]);
    expect((await recordingOf(w.sessionId, w.tutor.token))?.id).toBe(ids[2]);
  });

  it("parallel uploads cannot get past 3: exactly 3 of 6 are accepted, the others stored nothing", async () => {
    const w = await recWorld("completed");
    const results = await Promise.all(
      Array.from({ length: 6 }, () => upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID(), 4096))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) await expectProblem(r, 409, "conflict");
    const accepted = await Promise.all(results.filter((r) => r.status === 202).map((r) => json<{ id: string }>(r)));
    const state = await eventually(async () => {
      const s = await uploadState(w.sessionId);
      return s.objects.length === 1 ? s : undefined;
    });
    expect(state.rows).toHaveLength(1);
    expect(state.rows[0]?.uploadCount).toBe(3);
    expect(accepted.map((a) => a.id)).toContain(state.rows[0]?.id);
    // the surviving row's audio is the one object left
    expect(state.objects).toEqual([`recordings/${w.sessionId}/${state.rows[0]?.id}`]);
  });
});
