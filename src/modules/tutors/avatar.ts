/**
 * Tutor avatars in R2. Uploads are size-limited while streaming (a missing or lying Content-Length
 * changes nothing), checked to be the image type they claim and stripped of metadata (image.ts),
 * stored under a fresh key, swapped in with a compare-and-set on the profile row
 * (so of two racing uploads each replaced object is deleted exactly once) and the old object removed.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { tutorProfiles } from "../../db/schema";
import { randomToken } from "../../lib/crypto";
import { badRequest, conflict, DomainError, notFound } from "../../lib/errors";
import { checkedImage, IMAGE_TYPES, type ImageType } from "./image";
import { ownProfileRow, type TutorProfileRow, type TutorProfileView, withSubjects } from "./service";

export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;
export const AVATAR_TYPES = IMAGE_TYPES;
export type AvatarType = ImageType;
/** Browsers and CDNs may keep an avatar this long; the ETag makes revalidation cheap. */
export const AVATAR_CACHE_CONTROL = "public, max-age=300";

const tooLarge = () => new DomainError("payload_too_large", `Avatars are limited to ${AVATAR_MAX_BYTES} bytes`);

/** The media type of a Content-Type header if it is an accepted image type; 415 otherwise. */
export function avatarType(contentType: string | undefined): AvatarType {
  const essence = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const match = AVATAR_TYPES.find((t) => t === essence);
  if (!match) throw new DomainError("unsupported_media_type", `Send the image as ${AVATAR_TYPES.join(", ")}`);
  return match;
}

/** Reads a body of at most `max` bytes, counting as it streams; 413 as soon as it passes `max`. */
export async function readLimited(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function deleteObject(svc: ServiceContext, key: string): Promise<void> {
  try {
    await svc.env.BUCKET.delete(key);
  } catch (err) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "avatar delete failed",
        key,
        requestId: svc.requestId,
        error: String(err),
      }),
    );
  }
}

/** Stores a new avatar for the caller's tutor profile and returns the updated profile. */
export async function uploadAvatar(
  svc: ServiceContext,
  userId: string,
  upload: {
    contentType: string | undefined;
    contentLength: string | undefined;
    body: ReadableStream<Uint8Array> | null;
  },
): Promise<TutorProfileView> {
  const type = avatarType(upload.contentType);
  const declared = upload.contentLength === undefined ? Number.NaN : Number(upload.contentLength);
  if (declared > AVATAR_MAX_BYTES) throw tooLarge();
  let profile = await ownProfileRow(svc, userId);
  const received = await readLimited(upload.body, AVATAR_MAX_BYTES);
  if (received.byteLength === 0) throw badRequest("The image is empty", [{ path: "body", message: "Empty body" }]);
  const bytes = await checkedImage(received, type);

  const key = `avatars/${profile.id}/${randomToken(16)}`;
  await svc.env.BUCKET.put(key, bytes, { httpMetadata: { contentType: type } });
  let updated: TutorProfileRow | undefined;
  try {
    for (let attempt = 0; attempt < 5 && !updated; attempt++) {
      const previous = profile.avatarS3Key;
      [updated] = await svc.db
        .update(tutorProfiles)
        .set({ avatarS3Key: key, avatarContentType: type, updatedAt: svc.clock.now() })
        .where(
          and(
            eq(tutorProfiles.id, profile.id),
            previous === null ? isNull(tutorProfiles.avatarS3Key) : eq(tutorProfiles.avatarS3Key, previous),
          ),
        )
        .returning();
      if (updated && previous) await deleteObject(svc, previous);
      if (!updated) profile = await ownProfileRow(svc, userId);
    }
  } catch (err) {
    await deleteObject(svc, key);
    throw err;
  }
  if (!updated) {
    await deleteObject(svc, key);
    throw conflict("The avatar is being changed concurrently; try again");
  }
  return withSubjects(svc, updated);
}

/**
 * The avatar object of a tutor; with `ifNoneMatch` R2 answers without a body when it still matches
 * (the caller then sends 304). 404 when the tutor or the avatar does not exist.
 */
export async function readAvatar(
  svc: ServiceContext,
  tutorProfileId: string,
  ifNoneMatch?: string,
): Promise<{ object: R2Object | R2ObjectBody; contentType: string }> {
  const profile = await svc.db.query.tutorProfiles.findFirst({
    where: eq(tutorProfiles.id, tutorProfileId),
    columns: { avatarS3Key: true, avatarContentType: true },
  });
  if (!profile?.avatarS3Key) throw notFound("Avatar");
  const object = await svc.env.BUCKET.get(profile.avatarS3Key, {
    onlyIf: ifNoneMatch ? new Headers({ "if-none-match": ifNoneMatch }) : undefined,
  });
  if (!object) throw notFound("Avatar");
  return {
    object,
    contentType: object.httpMetadata?.contentType ?? profile.avatarContentType ?? "application/octet-stream",
  };
}
