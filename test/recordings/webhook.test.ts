import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { signCallbackToken } from "../../src/modules/recordings/callback-token";
import { MAX_LOGGED_PAYLOAD } from "../../src/modules/recordings/webhook";
import { call, env, expectProblem, json, tokenFor } from "../helpers/api";
import {
  audio,
  deepgramResult,
  postCallback,
  processingRecording,
  recordingOf,
  upload,
  waitForStatus,
  webhookRows,
} from "./helpers";

const path = (token: string) => `/v1/webhooks/deepgram?token=${encodeURIComponent(token)}`;

describe("Deepgram callback authentication", () => {
  it("rejects missing, forged, expired and wrong-audience tokens and writes nothing", async () => {
    const { w, rec, cb, requestId } = await processingRecording();
    const body = deepgramResult({ requestId, secret: cb.secret, transcript: "Hello there." });
    const config = getConfig(env);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(rec.id)
      .setIssuer(config.JWT_ISSUER)
      .setAudience("deepgram-callback")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    const expired = await signCallbackToken(config, rec.id, Date.now() - 25 * 3600 * 1000);
    const accessToken = await tokenFor(w.tutor.id, "tutor");
    const tampered = `${cb.callbackUrl.searchParams.get("token")}x`;

    for (const p of [
      "/v1/webhooks/deepgram",
      path("not-a-jwt"),
      path(forged),
      path(expired),
      path(accessToken),
      path(tampered),
    ]) {
      await expectProblem(await postCallback(p, body), 401, "unauthorized");
    }
    expect(await webhookRows(rec.id)).toEqual([]);
    expect((await recordingOf(w.sessionId, w.tutor.token))?.transcriptionStatus).toBe("processing");
  });

  it("a token for another recording cannot complete this one", async () => {
    const a = await processingRecording();
    const b = await processingRecording();
    // b's token with a's secret: the secret of b's recording does not match
    const res = await postCallback(
      b.cb.path,
      deepgramResult({ requestId: a.requestId, secret: a.cb.secret, transcript: "wrong" }),
    );
    await expectProblem(res, 401, "unauthorized");
    expect((await recordingOf(a.w.sessionId, a.w.tutor.token))?.transcriptionStatus).toBe("processing");
    expect((await recordingOf(b.w.sessionId, b.w.tutor.token))?.transcriptionStatus).toBe("processing");
  });

  it("a mismatched or missing callback secret is refused (401) but logged", async () => {
    const { w, rec, cb, requestId } = await processingRecording();
    await expectProblem(
      await postCallback(cb.path, deepgramResult({ requestId, secret: "not-the-secret", transcript: "Forged." })),
      401,
      "unauthorized",
    );
    await expectProblem(
      await postCallback(cb.path, deepgramResult({ requestId, transcript: "No secret." })),
      401,
      "unauthorized",
    );
    const rows = await webhookRows(rec.id);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.requestId === requestId)).toBe(true);
    const still = await recordingOf(w.sessionId, w.tutor.token);
    expect(still?.transcriptionStatus).toBe("processing");
    expect(still?.transcriptionText).toBeUndefined();

    // the genuine callback still works afterwards; no detected language → "en"
    const ok = await postCallback(
      cb.path,
      deepgramResult({ requestId, secret: cb.secret, transcript: "Real.", language: null, confidence: 0.5 }),
    );
    expect(await json(ok)).toEqual({ received: true, action: "completed" });
    expect((await recordingOf(w.sessionId, w.tutor.token))?.transcriptionMeta).toEqual({
      confidence: 0.5,
      language: "en",
    });
  });

  it("logs an unreadable body (400) and truncates large payloads to 64 KiB", async () => {
    const { rec, cb, requestId } = await processingRecording();
    const bad = await call(cb.path, {
      method: "POST",
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    await expectProblem(bad, 400, "validation_failed");
    const big = deepgramResult({ requestId, secret: cb.secret, transcript: "word ".repeat(20_000).trim() });
    const ok = await postCallback(cb.path, big);
    expect(ok.status).toBe(200);
    const rows = await webhookRows(rec.id);
    expect(rows).toHaveLength(2);
    const logged = rows.find((r) => r.eventType === "transcription_complete");
    expect(new TextEncoder().encode(logged?.payload ?? "").byteLength).toBeLessThanOrEqual(MAX_LOGGED_PAYLOAD);
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_LOGGED_PAYLOAD);
  });

  it("the log keeps the callback's structure and metadata, never a word of the lesson", async () => {
    const { rec, cb, requestId } = await processingRecording();
    const said = "Photosynthesis turns sunlight into sugar, Quentin.";
    expect(
      (await postCallback(cb.path, deepgramResult({ requestId, secret: cb.secret, transcript: said }))).status,
    ).toBe(200);
    const [row] = await webhookRows(rec.id);
    for (const word of ["Photosynthesis", "photosynthesis", "sunlight", "Quentin", "quentin"]) {
      expect(row?.payload).not.toContain(word);
    }
    const logged = JSON.parse(row?.payload ?? "{}");
    expect(logged.metadata.request_id).toBe(requestId);
    expect(logged.results.channels[0].alternatives[0]).toMatchObject({
      transcript: `[${said.length} characters]`,
      confidence: 0.98,
    });
    expect(logged.results.channels[0].alternatives[0].words[0]).toMatchObject({ start: 0, confidence: 0.97 });
  });

  it("a callback for a replaced recording is acknowledged and ignored", async () => {
    const { w, rec, cb, requestId } = await processingRecording();
    const marker = crypto.randomUUID();
    expect((await upload(w.sessionId, w.tutor.token, audio(marker))).status).toBe(202);
    const current = await waitForStatus(w.sessionId, w.tutor.token, "processing");
    expect(current.id).not.toBe(rec.id);
    const res = await postCallback(cb.path, deepgramResult({ requestId, secret: cb.secret, transcript: "Old." }));
    expect(await json(res)).toEqual({ received: true, action: "ignored" });
    expect((await recordingOf(w.sessionId, w.tutor.token))?.transcriptionStatus).toBe("processing");
    expect(await webhookRows(rec.id)).toHaveLength(1);
  });
});
