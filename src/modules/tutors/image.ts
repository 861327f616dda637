/**
 * What an uploaded avatar really is. The declared Content-Type is a claim: the bytes are identified by
 * their magic numbers with `file-type` (maintained, runs in Workers: pure JS on a Uint8Array) and must
 * be that type, else 415 (HTML labelled image/png never reaches storage). Bytes that are the type but
 * not a well-formed image are 400. What is stored is the image stripped of its metadata
 * (image-metadata.ts): no EXIF/GPS, XMP, text or comments, nothing after the image's end.
 */
import { fileTypeFromBuffer } from "file-type";
import { badRequest, DomainError } from "../../lib/errors";
import { MalformedImage, stripJpeg, stripPng, stripWebp } from "./image-metadata";

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

const strippers: Record<ImageType, (bytes: Uint8Array) => Uint8Array> = {
  "image/png": stripPng,
  "image/jpeg": stripJpeg,
  "image/webp": stripWebp,
};

/** The media type the bytes' signature names (an animated PNG is a PNG), or undefined. */
async function sniff(bytes: Uint8Array): Promise<string | undefined> {
  // file-type reads as far as it needs; a cut-off file can end its read early: that is "unknown"
  const found = await fileTypeFromBuffer(bytes).catch(() => undefined);
  return found?.mime === "image/apng" ? "image/png" : found?.mime;
}

/** The bytes to store for an image declared as `declared`: checked, and without metadata. */
export async function checkedImage(bytes: Uint8Array, declared: ImageType): Promise<Uint8Array> {
  const actual = await sniff(bytes);
  if (actual !== declared) {
    throw new DomainError(
      "unsupported_media_type",
      `The body is declared as ${declared} but is ${actual ?? "not a recognised image"}`,
    );
  }
  try {
    return strippers[declared](bytes);
  } catch (err) {
    if (!(err instanceof MalformedImage)) throw err;
    throw badRequest(`The body is not a well-formed ${declared} image`, [{ path: "body", message: err.message }]);
  }
}
