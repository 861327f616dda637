import { describe, expect, it } from "vitest";
import { MalformedImage, stripJpeg, stripPng, stripWebp } from "../../src/modules/tutors/image-metadata";
import { call, createUser, env, expectProblem, json, tokenFor } from "../helpers/api";
import { createTutor, insertSubject, type TutorProfileBody } from "./fixtures";
import {
  concat,
  includesText,
  isJpegMetadata,
  JPEG_WITH_GPS,
  jpegHeaderSegments,
  jpegWithout,
  METADATA_MARKERS,
  PLAIN_JPEG,
  PLAIN_PNG,
  PLAIN_WEBP,
  PNG_METADATA_CHUNKS,
  PNG_WITH_METADATA,
  PROGRESSIVE_JPEG_WITH_GPS,
  pngChunks,
  pngWithout,
  text,
  WEBP_WITH_METADATA,
  webpChunks,
} from "./images";

const path = "/v1/me/tutor-profile/avatar";
const MiB = 1024 * 1024;

async function tutor() {
  return createTutor({ subjectIds: [(await insertSubject()).id] });
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

/** A body stream of `total` bytes (starting with `head`) in 64 KiB chunks (no Content-Length). */
function stream(total: number, head = new Uint8Array(0)): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(64 * 1024, total - sent);
      const chunk = bytes(n, 1);
      if (sent < head.byteLength) chunk.set(head.subarray(sent, sent + n));
      sent += n;
      controller.enqueue(chunk);
    },
  });
}

/** A JPEG of exactly `size` bytes: PLAIN_JPEG padded with comment (COM) segments, which are stripped. */
function jpegOfSize(size: number): Uint8Array {
  const pad: Uint8Array[] = [];
  let missing = size - PLAIN_JPEG.byteLength;
  while (missing > 0) {
    const n = Math.min(missing, 65_537); // a segment is at most 2 + 65535 bytes
    const segment = new Uint8Array(n).fill(0x20);
    segment.set([0xff, 0xfe, (n - 2) >> 8, (n - 2) & 0xff]);
    pad.push(segment);
    missing -= n;
  }
  return concat([PLAIN_JPEG.subarray(0, 2), ...pad, PLAIN_JPEG.subarray(2)]);
}

async function storedAvatar(tutorProfileId: string): Promise<{ bytes: Uint8Array; type: string | undefined }> {
  const [key, ...rest] = await avatarKeys(tutorProfileId);
  expect(rest).toEqual([]);
  const object = await env.BUCKET.get(key ?? "");
  if (!object) throw new Error("no avatar stored");
  return { bytes: new Uint8Array(await object.arrayBuffer()), type: object.httpMetadata?.contentType };
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
    const png = PLAIN_PNG;
    const res = await upload(t.token, png, "image/png");
    expect(res.status).toBe(200);
    const profile = await json<TutorProfileBody>(res);
    const avatarUrl = `http://api.test/v1/tutors/${t.profile.id}/avatar`;
    expect(profile).toMatchObject({ id: t.profile.id, avatarUrl });
    const [firstKey, ...rest] = await avatarKeys(t.profile.id);
    expect(rest).toEqual([]);
    const stored = await env.BUCKET.head(firstKey ?? "");
    expect(stored?.httpMetadata?.contentType).toBe("image/png");
    expect(stored?.size).toBe(png.byteLength);

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

    const webp = PLAIN_WEBP;
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

  it("accepts exactly 2 MiB of JPEG (and stores it without its comment segments)", async () => {
    const t = await tutor();
    const body = jpegOfSize(2 * MiB);
    expect(body.byteLength).toBe(2 * MiB);
    const res = await upload(t.token, body, "image/jpeg");
    expect(res.status).toBe(200);
    const got = await call(`/v1/tutors/${t.profile.id}/avatar`);
    expect(got.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(PLAIN_JPEG);
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
    const res = await upload(t.token, stream(PLAIN_WEBP.byteLength, PLAIN_WEBP), "image/webp");
    expect(res.status).toBe(200);
    expect((await storedAvatar(t.profile.id)).bytes).toEqual(PLAIN_WEBP);
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

describe("avatar bytes are checked and stripped of metadata (issue 12, finding 8)", () => {
  it("refuses (415) bytes that are not the declared image type: HTML as image/png, a PNG as JPEG, GIF, SVG", async () => {
    const t = await tutor();
    const html = text("<!doctype html><html><script>alert(document.cookie)</script></html>");
    const cases: [Uint8Array, string][] = [
      [html, "image/png"],
      [html, "image/jpeg"],
      [html, "image/webp"],
      [text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), "image/png"],
      [text("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "image/png"],
      [text("%PDF-1.7\n"), "image/jpeg"],
      [PLAIN_PNG, "image/jpeg"],
      [PLAIN_JPEG, "image/webp"],
      [PLAIN_WEBP, "image/png"],
      [bytes(1000, 42), "image/png"],
    ];
    for (const [body, type] of cases) {
      const problem = await expectProblem(await upload(t.token, body, type), 415, "unsupported_media_type");
      expect(String(problem.detail)).toContain(type);
    }
    expect(await avatarKeys(t.profile.id)).toEqual([]);
  });

  it("refuses (400) a truncated or malformed image of the declared type", async () => {
    const t = await tutor();
    const cases: [Uint8Array, string][] = [
      [PLAIN_PNG.subarray(0, 40), "image/png"],
      [PLAIN_PNG.subarray(0, PLAIN_PNG.byteLength - 12), "image/png"], // no IEND
      [PLAIN_JPEG.subarray(0, 300), "image/jpeg"],
      [PLAIN_JPEG.subarray(0, PLAIN_JPEG.byteLength - 2), "image/jpeg"], // no EOI
      [PLAIN_WEBP.subarray(0, 40), "image/webp"],
    ];
    for (const [body, type] of cases) {
      await expectProblem(await upload(t.token, body, type), 400, "validation_failed");
    }
    expect(await avatarKeys(t.profile.id)).toEqual([]);
  });

  it("stores a JPEG without its Exif (GPS), XMP and comment segments, the image data unchanged", async () => {
    for (const jpeg of [JPEG_WITH_GPS, PROGRESSIVE_JPEG_WITH_GPS]) {
      const t = await tutor();
      expect(jpegHeaderSegments(jpeg).filter(([m]) => m === 0xe1)).toHaveLength(2);
      const res = await upload(t.token, jpeg, "image/jpeg");
      expect(res.status).toBe(200);
      const stored = await storedAvatar(t.profile.id);
      expect(stored.type).toBe("image/jpeg");
      expect(stored.bytes).toEqual(jpegWithout(jpeg, isJpegMetadata));
      for (const marker of METADATA_MARKERS) expect(includesText(stored.bytes, marker), marker).toBe(false);
      // the public bytes are the stripped ones
      const got = await call(`/v1/tutors/${t.profile.id}/avatar`);
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(stored.bytes);
    }
  });

  it("drops whatever follows the end of the image (a JPEG or PNG with an HTML trailer)", async () => {
    const t = await tutor();
    const trailer = text("<html><script>alert(1)</script></html>");
    expect((await upload(t.token, concat([PLAIN_JPEG, trailer]), "image/jpeg")).status).toBe(200);
    expect((await storedAvatar(t.profile.id)).bytes).toEqual(PLAIN_JPEG);
    expect((await upload(t.token, concat([PLAIN_PNG, trailer]), "image/png")).status).toBe(200);
    expect((await storedAvatar(t.profile.id)).bytes).toEqual(PLAIN_PNG);
  });

  it("stores a PNG without its tEXt, iTXt, zTXt, eXIf and tIME chunks, keeping the rendering ones", async () => {
    const t = await tutor();
    const types = pngChunks(PNG_WITH_METADATA).map(([type]) => type);
    expect(types).toEqual(expect.arrayContaining(["tEXt", "iTXt", "eXIf", "tIME", "gAMA", "cHRM", "bKGD"]));
    expect((await upload(t.token, PNG_WITH_METADATA, "image/png")).status).toBe(200);
    const stored = await storedAvatar(t.profile.id);
    expect(stored.bytes).toEqual(pngWithout(PNG_WITH_METADATA, PNG_METADATA_CHUNKS));
    expect(pngChunks(stored.bytes).map(([type]) => type)).toEqual(["IHDR", "gAMA", "cHRM", "bKGD", "IDAT", "IEND"]);
    for (const marker of METADATA_MARKERS) expect(includesText(stored.bytes, marker), marker).toBe(false);
  });

  it("stores a WebP without its EXIF and XMP chunks and clears their VP8X flags", async () => {
    const t = await tutor();
    const before = webpChunks(WEBP_WITH_METADATA);
    expect(before.map(([fourcc]) => fourcc)).toEqual(expect.arrayContaining(["VP8X", "EXIF", "XMP "]));
    expect((before[0]?.[1][0] ?? 0) & 0x0c).toBe(0x0c);
    expect((await upload(t.token, WEBP_WITH_METADATA, "image/webp")).status).toBe(200);
    const stored = (await storedAvatar(t.profile.id)).bytes;
    const after = webpChunks(stored);
    expect(after.map(([fourcc]) => fourcc)).toEqual(before.map(([f]) => f).filter((f) => f !== "EXIF" && f !== "XMP "));
    expect((after[0]?.[1][0] ?? 0) & 0x0c).toBe(0);
    // the image data is unchanged and the RIFF size is the new length
    expect(after.find(([f]) => f === "VP8 ")?.[1]).toEqual(before.find(([f]) => f === "VP8 ")?.[1]);
    expect(new DataView(stored.buffer).getUint32(4, true)).toBe(stored.byteLength - 8);
    for (const marker of METADATA_MARKERS) expect(includesText(stored, marker), marker).toBe(false);
  });
});

describe("GET /v1/tutors/:id/avatar", () => {
  it("is 404 for a tutor without an avatar and for an unknown tutor", async () => {
    const t = await tutor();
    await expectProblem(await call(`/v1/tutors/${t.profile.id}/avatar`), 404, "not_found");
    await expectProblem(await call("/v1/tutors/tut_missing/avatar"), 404, "not_found");
  });
});

describe("the metadata parsers on edge cases", () => {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const pngChunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.byteLength);
    out.set(text(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.byteLength, crc32(out.subarray(4, 8 + data.byteLength)));
    return out;
  };
  /** PLAIN_PNG with `extra` chunks right after IHDR. */
  const pngWith = (...extra: Uint8Array[]) => {
    const [ihdr, ...rest] = pngChunks(PLAIN_PNG).map(([, bytes]) => bytes);
    return concat([PLAIN_PNG.subarray(0, 8), ihdr ?? new Uint8Array(0), ...extra, ...rest]);
  };

  it("PNG: an animated PNG is a PNG (acTL kept), private chunks dropped, unknown critical chunks refused", async () => {
    const t = await tutor();
    const actl = pngChunk("acTL", new Uint8Array(8));
    const apng = pngWith(actl, pngChunk("prIv", text("tracking id 42")));
    expect((await upload(t.token, apng, "image/png")).status).toBe(200);
    expect((await storedAvatar(t.profile.id)).bytes).toEqual(pngWith(actl));
    expect(() => stripPng(pngWith(pngChunk("ABCD", new Uint8Array(1))))).toThrow(MalformedImage);
    expect(() =>
      stripPng(
        concat([
          PLAIN_PNG.subarray(0, 8),
          ...pngChunks(PLAIN_PNG)
            .slice(1)
            .map(([, b]) => b),
        ]),
      ),
    ).toThrow(/IHDR/);
  });

  it("JPEG: fill bytes and restart markers survive; a scan before the frame header is refused", () => {
    const segments = jpegHeaderSegments(PLAIN_JPEG);
    const headerEnd = segments.reduce((n, [, s]) => n + s.byteLength, 2);
    // fill bytes (0xFF 0xFF) before the SOS marker are dropped; RST markers inside a scan are data
    const scan = PLAIN_JPEG.subarray(headerEnd);
    const withFill = concat([PLAIN_JPEG.subarray(0, headerEnd), Uint8Array.of(0xff, 0xff), scan]);
    expect(stripJpeg(withFill)).toEqual(PLAIN_JPEG);
    const sosLength = ((scan[2] ?? 0) << 8) | (scan[3] ?? 0);
    const withRestart = concat([
      PLAIN_JPEG.subarray(0, headerEnd + 2 + sosLength),
      Uint8Array.of(0x12, 0xff, 0xd0, 0x34, 0xff, 0x00),
      scan.subarray(2 + sosLength),
    ]);
    expect(stripJpeg(withRestart)).toEqual(withRestart);
    const noFrame = jpegWithout(PLAIN_JPEG, (m) => m === 0xc0);
    expect(() => stripJpeg(noFrame)).toThrow(/frame/);
  });

  it("WebP: a chunk after a simple image is dropped; an extended file without image data is refused", () => {
    const junk = concat([text("JUNK"), Uint8Array.of(3, 0, 0, 0), text("abc"), new Uint8Array(1)]);
    const withJunk = concat([PLAIN_WEBP, junk]);
    new DataView(withJunk.buffer).setUint32(4, withJunk.byteLength - 8, true);
    expect(stripWebp(withJunk)).toEqual(PLAIN_WEBP);
    const vp8x = webpChunks(WEBP_WITH_METADATA)[0]?.[1] ?? new Uint8Array(0);
    const header = concat([text("VP8X"), Uint8Array.of(vp8x.byteLength, 0, 0, 0), vp8x]);
    const noImage = concat([text("RIFF"), new Uint8Array(4), text("WEBP"), header]);
    new DataView(noImage.buffer).setUint32(4, noImage.byteLength - 8, true);
    expect(() => stripWebp(noImage)).toThrow(/image data/);
  });
});
