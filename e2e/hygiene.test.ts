/**
 * Issue 12, findings 5–8 against the running Worker: typed text rules, e-mails that name people
 * without their addresses, avatars checked and stripped of metadata, and the recording upload limit.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { JPEG_WITH_GPS, PNG_WITH_METADATA } from "../test/tutors/images.ts";
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
  type Subject,
  slotIn,
  start,
  type Tokens,
} from "./helpers.ts";

const latin1 = (bytes: Uint8Array) => new TextDecoder("latin1").decode(bytes);

describe("hygiene: text, e-mails, avatars, uploads", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("hygiene"));
    subject = await newSubject(admin);
  });

  it("typed text: NFC stored, bidi overrides, controls, links in names and broken UTF-8 refused", async () => {
    const s = await newStudent();
    const patch = (raw: string | Uint8Array) =>
      c.call<{ name: string; errors?: { path: string }[] }>("/v1/me", {
        method: "PATCH",
        token: s.token,
        raw,
        headers: { "content-type": "application/json" },
      });
    const ok = await patch('{"name":"Rene\\u0301e"}');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.name, "Renée");
    for (const raw of [
      '{"name":"abc\\u202Egpj.exe"}',
      '{"name":"a\\u0000b"}',
      '{"name":"a\\ud800b"}',
      '{"name":"verify at https://evil.example/login"}',
      new Uint8Array([...new TextEncoder().encode('{"name":"a'), 0xff, ...new TextEncoder().encode('"}')]),
    ]) {
      const r = await patch(raw);
      await expectProblem(r, 400, "validation_failed");
      assert.equal(r.body.errors?.length, 1, r.text);
    }
  });

  it("the tutor's booking e-mail names the student without their address", async () => {
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const since = Date.now() - 1000;
    const r = await book(s, t, subject.id, slotIn(30), 60);
    assert.equal(r.status, 201, r.text);
    const mail = await c.mail(t.email, /Your session with/, since);
    assert.match(mail.text ?? "", /Your session with a student is booked/);
    assert.ok(!(mail.text ?? "").includes(s.email), "the student's address is not in the tutor's e-mail");
    const toStudent = await c.mail(s.email, /Your session with/, since);
    assert.match(toStudent.text ?? "", /Your session with tutor “Tutor /);
  });

  it("avatars: HTML labelled image/png is 415; JPEG EXIF (GPS) and PNG text chunks are not stored", async () => {
    const t = await newTutor(admin, [subject.id]);
    const put = (raw: Uint8Array, type: string) =>
      c.call("/v1/me/tutor-profile/avatar", { method: "PUT", token: t.token, raw, headers: { "content-type": type } });
    await expectProblem(
      await put(new TextEncoder().encode("<html><script>alert(1)</script></html>"), "image/png"),
      415,
      "unsupported_media_type",
    );
    await expectProblem(await put(PNG_WITH_METADATA, "image/jpeg"), 415, "unsupported_media_type");
    await expectProblem(await put(PNG_WITH_METADATA.subarray(0, 60), "image/png"), 400, "validation_failed");
    for (const [image, type] of [
      [JPEG_WITH_GPS, "image/jpeg"],
      [PNG_WITH_METADATA, "image/png"],
    ] as const) {
      const r = await put(image, type);
      assert.equal(r.status, 200, r.text);
      const served = await fetch(`${c.apiUrl}/v1/tutors/${t.profileId}/avatar`);
      assert.equal(served.headers.get("content-type"), type);
      const bytes = new Uint8Array(await served.arrayBuffer());
      assert.ok(bytes.byteLength > 100 && bytes.byteLength < image.byteLength);
      for (const marker of ["Exif", "SecretCam", "Jane Secret", "home address", "tEXt", "eXIf"]) {
        assert.ok(!latin1(bytes).includes(marker), `${type}: ${marker} was stripped`);
      }
    }
  });

  it("a session takes 3 recording uploads; the 4th is 409", async () => {
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const booked = await book(s, t, subject.id, nextQuarter(), 60);
    assert.equal(booked.status, 201, booked.text);
    await start(t, booked.body.id);
    const upload = () =>
      c.call(`/v1/sessions/${booked.body.id}/recording`, {
        method: "PUT",
        token: t.token,
        raw: wav(0.2),
        headers: { "content-type": "audio/wav" },
      });
    for (let i = 1; i <= 3; i++) assert.equal((await upload()).status, 202, `upload ${i}`);
    await expectProblem(await upload(), 409, "conflict");
  });
});
