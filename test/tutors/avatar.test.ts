import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json, tokenFor } from "../helpers/api";
import { createTutor, insertSubject, type TutorProfileBody } from "./fixtures";

const path = "/v1/me/tutor-profile/avatar";
const MiB = 1024 * 1024;

async function tutor() {
  return createTutor({ subjectIds: [(await insertSubject()).id] });
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

/** A body stream of `total` bytes in 64 KiB chunks (no Content-Length). */
function stream(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      controller.enqueue(bytes(n, 1));
    },
  });
}

const upload = (token: string, body: BodyInit, contentType = "image/png", headers: Record<string, string> = {}) =>
  call(path, { method: "PUT", token, rawBody: body, headers: { "content-type": contentType, ...headers } });

async function avatarKeys(tutorProfileId: string): Promise<string[]> {
  const listed = await env.BUCKET.list({ prefix: `avatars/${tutorProfileId}/` });
  return listed.objects.map((o) => o.key);
}

describe("PUT /v1/me/tutor-profile/avatar", () => {
  it("stores the image in R2, links it, serves it cacheably and deletes the replaced one", async () => {
    const t = await tutor();
    const png = bytes(1000, 42);
    const res = await upload(t.token, png, "image/png");
    expect(res.status).toBe(200);
    const profile = await json<TutorProfileBody>(res);
    const avatarUrl = `http://api.test/v1/tutors/${t.profile.id}/avatar`;
    expect(profile).toMatchObject({ id: t.profile.id, avatarUrl });
    const [firstKey, ...rest] = await avatarKeys(t.profile.id);
    expect(rest).toEqual([]);
    const stored = await env.BUCKET.head(firstKey ?? "");
    expect(stored?.httpMetadata?.contentType).toBe("image/png");
    expect(stored?.size).toBe(1000);

    const got = await call(`/v1/tutors/${t.profile.id}/avatar`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
    const etag = got.headers.get("etag");
    expect(etag).toBe(stored?.httpEtag);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(png);
    const revalidated = await call(`/v1/tutors/${t.profile.id}/avatar`, { headers: { "if-none-match": etag ?? "" } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.arrayBuffer()).toHaveProperty("byteLength", 0);
    // a malformed If-None-Match is ignored (it used to reach R2's conditional read and answer 500)
    for (const bad of ["garbage", '"', 'W/"', "*,", `${etag}, garbage`]) {
      const res = await call(`/v1/tutors/${t.profile.id}/avatar`, { headers: { "if-none-match": bad } });
      expect(res.status, bad).toBe(200);
      await res.arrayBuffer();
    }

    expect(await json(await call(`/v1/tutors/${t.profile.id}`))).toMatchObject({ avatarUrl });

    const webp = bytes(2000, 9);
    const second = await upload(t.token, webp, "image/webp; charset=binary");
    expect(second.status).toBe(200);
    const keys = await avatarKeys(t.profile.id);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe(firstKey);
    const again = await call(`/v1/tutors/${t.profile.id}/avatar`, { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(200);
    expect(again.headers.get("content-type")).toBe("image/webp");
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(webp);
  });

  it("accepts exactly 2 MiB of JPEG", async () => {
    const t = await tutor();
    const res = await upload(t.token, bytes(2 * MiB), "image/jpeg");
    expect(res.status).toBe(200);
    const got = await call(`/v1/tutors/${t.profile.id}/avatar`);
    expect(got.headers.get("content-type")).toBe("image/jpeg");
    expect((await got.arrayBuffer()).byteLength).toBe(2 * MiB);
  });

  it("is 413 above 2 MiB, whether Content-Length says so, lies or is missing", async () => {
    const t = await tutor();
    await expectProblem(await upload(t.token, bytes(2 * MiB + 1)), 413, "payload_too_large");
    await expectProblem(await upload(t.token, stream(3 * MiB)), 413, "payload_too_large");
    await expectProblem(
      await upload(t.token, bytes(100), "image/png", { "content-length": String(5 * MiB) }),
      413,
      "payload_too_large",
    );
    // A Content-Length that understates the body does not get past the streaming count.
    await expectProblem(
      await upload(t.token, bytes(3 * MiB), "image/png", { "content-length": "10" }),
      413,
      "payload_too_large",
    );
    expect(await avatarKeys(t.profile.id)).toEqual([]);
    expect((await json<TutorProfileBody>(await call("/v1/me/tutor-profile", { token: t.token }))).avatarUrl).toBeNull();
  });

  it("accepts a small streamed body without Content-Length", async () => {
    const t = await tutor();
    expect((await upload(t.token, stream(100 * 1024), "image/png")).status).toBe(200);
    expect(await avatarKeys(t.profile.id)).toHaveLength(1);
  });

  it("is 415 for other content types and 400 for an empty body", async () => {
    const t = await tutor();
    for (const type of ["image/gif", "image/svg+xml", "text/plain", "application/json", "application/octet-stream"]) {
      await expectProblem(await upload(t.token, bytes(10), type), 415, "unsupported_media_type");
    }
    const noType = await call(path, { method: "PUT", token: t.token, rawBody: bytes(10) });
    await expectProblem(noType, 415, "unsupported_media_type");
    await expectProblem(await upload(t.token, new Uint8Array(0)), 400, "validation_failed");
    await expectProblem(
      await call(path, { method: "PUT", token: t.token, headers: { "content-type": "image/png" } }),
      400,
      "validation_failed",
    );
    expect(await avatarKeys(t.profile.id)).toEqual([]);
  });

  it("is 401 anonymous, 403 for a student, 404 for a tutor token without a profile", async () => {
    await expectProblem(
      await call(path, { method: "PUT", rawBody: bytes(10), headers: { "content-type": "image/png" } }),
      401,
      "unauthorized",
    );
    const student = await createUser("student");
    await expectProblem(await upload(student.token, bytes(10)), 403, "forbidden");
    await expectProblem(await upload(await tokenFor(student.id, "tutor"), bytes(10)), 404, "not_found");
  });
});

describe("GET /v1/tutors/:id/avatar", () => {
  it("is 404 for a tutor without an avatar and for an unknown tutor", async () => {
    const t = await tutor();
    await expectProblem(await call(`/v1/tutors/${t.profile.id}/avatar`), 404, "not_found");
    await expectProblem(await call("/v1/tutors/tut_missing/avatar"), 404, "not_found");
  });
});
