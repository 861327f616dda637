/**
 * Removes metadata from PNG, JPEG and WebP images without decoding them: each format is a list of
 * chunks (PNG, WebP) or marker segments (JPEG), and this keeps the ones needed to show the image and
 * drops the rest — EXIF (with GPS positions, camera serials), XMP, text and comments, timestamps,
 * vendor and unknown blocks — and anything after the end of the image (a trailer is how an image
 * doubles as HTML or an archive). The pixels are copied byte for byte, so nothing is re-encoded.
 *
 * Why our own parser: the npm libraries that strip metadata either re-encode through WASM codecs
 * (megabytes of code and far more CPU than a Worker request has) or work on Node streams; none
 * keeps to a whitelist for all three formats. These formats' container rules are short, and the
 * parser is strict: a structure it does not recognise is an error (MalformedImage), never passed on.
 *
 * Kept: PNG critical chunks, colour and transparency chunks and APNG animation chunks; JPEG tables,
 * frames and scans, the JFIF header, an ICC colour profile and the Adobe colour-transform segment;
 * WebP image, alpha, animation and ICC chunks (VP8X flags for EXIF/XMP cleared).
 */

export class MalformedImage extends Error {
  override name = "MalformedImage";
}

const malformed = (why: string) => new MalformedImage(why);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const startsWith = (bytes: Uint8Array, prefix: string) =>
  bytes.byteLength >= prefix.length && ascii(bytes.subarray(0, prefix.length)) === prefix;

// ---------------------------------------------------------------- PNG (RFC 2083 / PNG 3rd edition)

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_CRITICAL = new Set(["IHDR", "PLTE", "IDAT", "IEND"]);
/** Ancillary chunks that change how the image looks (or animates); every other one is dropped. */
const PNG_KEPT_ANCILLARY = new Set([
  "tRNS",
  "cHRM",
  "gAMA",
  "iCCP",
  "sBIT",
  "sRGB",
  "cICP",
  "mDCV",
  "cLLI",
  "bKGD",
  "hIST",
  "pHYs",
  "sPLT",
  "acTL",
  "fcTL",
  "fdAT",
]);

export function stripPng(png: Uint8Array): Uint8Array {
  if (png.byteLength < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) throw malformed("no PNG signature");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const kept: Uint8Array[] = [png.subarray(0, 8)];
  let seenData = false;
  for (let at = 8; ; ) {
    if (at + 12 > png.byteLength) throw malformed("truncated PNG chunk (no IEND)");
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > png.byteLength) throw malformed("PNG chunk past the end of the file");
    const type = ascii(png.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed("invalid PNG chunk type");
    if (at === 8 && type !== "IHDR") throw malformed("PNG does not start with IHDR");
    // bit 5 of the first letter: 0 = critical (a decoder must understand it), 1 = ancillary
    const critical = (type.charCodeAt(0) & 0x20) === 0;
    if (critical && !PNG_CRITICAL.has(type)) throw malformed(`unknown critical PNG chunk ${type}`);
    if (critical || PNG_KEPT_ANCILLARY.has(type)) kept.push(png.subarray(at, end));
    if (type === "IDAT") seenData = true;
    if (type === "IEND") {
      if (!seenData) throw malformed("PNG without image data");
      return concat(kept); // whatever follows IEND is dropped
    }
    at = end;
  }
}

// ---------------------------------------------------------------- JPEG (ITU T.81, JFIF)

/** Start-of-frame markers (all coding processes but the DHT/JPG/DAC codes in between). */
const isFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
const SOS = 0xda;
/** DHT, DAC, DQT, DNL, DRI (tables the scans need) and SOS (a scan's header). */
const JPEG_DECODING = new Set([0xc4, 0xcc, 0xdb, 0xdc, 0xdd, SOS]);
const EOI = 0xd9;

/** Whether a segment (marker + payload after the length) is needed to decode or colour the image. */
function keepJpegSegment(marker: number, payload: Uint8Array): boolean {
  if (isFrame(marker) || JPEG_DECODING.has(marker)) return true;
  if (marker === 0xe0) return startsWith(payload, "JFIF\0") || startsWith(payload, "JFXX\0");
  if (marker === 0xe2) return startsWith(payload, "ICC_PROFILE\0");
  if (marker === 0xee) return startsWith(payload, "Adobe");
  // APP1 (Exif, XMP), the other APPn (Photoshop/IPTC, MPF, vendors), COM, reserved JPGn: dropped
  return false;
}

export function stripJpeg(jpeg: Uint8Array): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw malformed("no JPEG start-of-image marker");
  const kept: Uint8Array[] = [jpeg.subarray(0, 2)];
  let seenFrame = false;
  let seenScan = false;
  for (let at = 2; ; ) {
    if (at >= jpeg.byteLength) throw malformed("JPEG without end-of-image marker");
    if (jpeg[at] !== 0xff) throw malformed("JPEG marker expected");
    let m = at + 1;
    while (jpeg[m] === 0xff) m++; // fill bytes before a marker
    if (m >= jpeg.byteLength) throw malformed("truncated JPEG marker");
    const marker = jpeg[m] ?? 0;
    const markerBytes = jpeg.subarray(m - 1, m + 1);
    at = m + 1;
    if (marker === EOI) {
      if (!seenScan) throw malformed("JPEG without image data");
      kept.push(markerBytes);
      return concat(kept); // whatever follows EOI is dropped
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      kept.push(markerBytes); // RSTn, TEM: no payload
      continue;
    }
    if (marker === 0x00 || marker === 0xd8) throw malformed("unexpected JPEG marker");
    if (at + 2 > jpeg.byteLength) throw malformed("truncated JPEG segment");
    const length = ((jpeg[at] ?? 0) << 8) | (jpeg[at + 1] ?? 0);
    if (length < 2 || at + length > jpeg.byteLength) throw malformed("JPEG segment past the end of the file");
    const segmentEnd = at + length;
    if (keepJpegSegment(marker, jpeg.subarray(at + 2, segmentEnd))) {
      kept.push(markerBytes, jpeg.subarray(at, segmentEnd));
    }
    if (isFrame(marker)) seenFrame = true;
    at = segmentEnd;
    if (marker === SOS) {
      if (!seenFrame) throw malformed("JPEG scan before its frame header");
      // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart
      let s = at;
      for (;;) {
        s = jpeg.indexOf(0xff, s);
        if (s < 0 || s + 1 >= jpeg.byteLength) throw malformed("truncated JPEG scan");
        const next = jpeg[s + 1] ?? 0;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) s += 2;
        else if (next === 0xff) s += 1;
        else break;
      }
      kept.push(jpeg.subarray(at, s));
      seenScan = true;
      at = s;
    }
  }
}

// ---------------------------------------------------------------- WebP (RFC 9649)

const WEBP_IMAGE = new Set(["VP8 ", "VP8L"]);
/** Chunks of the extended format that show the image; EXIF, XMP and unknown ones are dropped. */
const WEBP_KEPT_EXTENDED = new Set(["VP8X", "ICCP", "ANIM", "ANMF", "ALPH", "VP8 ", "VP8L"]);
const VP8X_EXIF_FLAG = 0x08;
const VP8X_XMP_FLAG = 0x04;

export function stripWebp(webp: Uint8Array): Uint8Array {
  if (webp.byteLength < 12 || !startsWith(webp, "RIFF") || ascii(webp.subarray(8, 12)) !== "WEBP") {
    throw malformed("no RIFF WEBP header");
  }
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > webp.byteLength) throw malformed("WebP shorter than its RIFF size");
  const chunks: { fourcc: string; payload: Uint8Array }[] = [];
  for (let at = 12; at < riffEnd; ) {
    if (at + 8 > riffEnd) throw malformed("truncated WebP chunk");
    const size = view.getUint32(at + 4, true);
    if (at + 8 + size > riffEnd) throw malformed("WebP chunk past the end of the file");
    chunks.push({ fourcc: ascii(webp.subarray(at, at + 4)), payload: webp.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  const first = chunks[0];
  if (!first) throw malformed("WebP without chunks");
  let kept: typeof chunks;
  if (WEBP_IMAGE.has(first.fourcc)) {
    kept = [first]; // the simple format is one image chunk; anything after it is dropped
  } else if (first.fourcc === "VP8X") {
    if (first.payload.byteLength < 10) throw malformed("short VP8X chunk");
    kept = chunks.filter((c) => WEBP_KEPT_EXTENDED.has(c.fourcc));
    if (!kept.some((c) => WEBP_IMAGE.has(c.fourcc) || c.fourcc === "ANMF")) throw malformed("WebP without image data");
    const header = Uint8Array.from(first.payload);
    header[0] = (header[0] ?? 0) & ~(VP8X_EXIF_FLAG | VP8X_XMP_FLAG);
    kept[0] = { fourcc: "VP8X", payload: header };
  } else {
    throw malformed("WebP does not start with an image or VP8X chunk");
  }
  const parts: Uint8Array[] = [];
  for (const c of kept) {
    const head = new Uint8Array(8);
    head.set([...c.fourcc].map((ch) => ch.charCodeAt(0)));
    new DataView(head.buffer).setUint32(4, c.payload.byteLength, true);
    parts.push(head, c.payload);
    if (c.payload.byteLength % 2) parts.push(new Uint8Array(1));
  }
  const body = concat(parts);
  const header = new Uint8Array(12);
  header.set([0x52, 0x49, 0x46, 0x46]); // RIFF
  new DataView(header.buffer).setUint32(4, 4 + body.byteLength, true);
  header.set([0x57, 0x45, 0x42, 0x50], 8); // WEBP
  return concat([header, body]);
}
