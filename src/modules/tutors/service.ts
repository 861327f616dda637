/**
 * Tutor profiles: creation (linked to the user in the same batch), updates, the public view and
 * the by-subject listing. `tutorSubjects` is the indexed link; `tutorProfiles.subjects` mirrors its
 * ids as JSON and is always written in the same batch. Only `approved` tutors are public: every
 * other status (pending, rejected, suspended — a closed account's profile is suspended) is 404 on
 * the public routes and cannot be booked; the owner still sees the profile and its status.
 */
import { and, eq, inArray, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Config } from "../../config";
import type { AuthUser, ServiceContext } from "../../context";
import { subjects, tutorProfiles, tutorSubjects, users } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { relistStatements } from "./listing";
import type { CreateTutorProfileInput, UpdateTutorProfileInput } from "./schemas";

export type TutorProfileRow = typeof tutorProfiles.$inferSelect;

/** The one status whose tutors are listed, shown to the public, offer slots and can be booked. */
export const PUBLIC_TUTOR_STATUS = "approved" satisfies TutorProfileRow["status"];
const isPublic = eq(tutorProfiles.status, PUBLIC_TUTOR_STATUS);

export interface SubjectRef {
  id: string;
  name: string;
  slug: string;
}

/** `(select value from json_each(?))`: one bound parameter for a whole id list (D1 caps parameters). */
const idList = (ids: readonly string[]): SQL => sql`(select value from json_each(${JSON.stringify(ids)}))`;

const unique = (ids: readonly string[]) => [...new Set(ids)];

export function avatarUrl(config: Config, profile: Pick<TutorProfileRow, "id" | "avatarS3Key">): string | null {
  if (!profile.avatarS3Key) return null;
  return `${config.PUBLIC_API_URL.replace(/\/+$/, "")}/v1/tutors/${encodeURIComponent(profile.id)}/avatar`;
}

/** The profile columns the public view shows. */
export type ShownTutor = Pick<
  TutorProfileRow,
  "id" | "displayName" | "bio" | "hourlyCreditsPrice" | "avatarS3Key" | "ratingSum" | "ratingCount" | "timezone"
>;

export function publicTutor(config: Config, row: ShownTutor, subjectRefs: SubjectRef[]) {
  return {
    id: row.id,
    displayName: row.displayName,
    bio: row.bio,
    subjects: subjectRefs,
    hourlyCreditsPrice: row.hourlyCreditsPrice,
    avatarUrl: avatarUrl(config, row),
    /** The exact mean of the tutor's review ratings; null before the first review. */
    ratingAverage: row.ratingCount === 0 ? null : row.ratingSum / row.ratingCount,
    ratingCount: row.ratingCount,
    timezone: row.timezone,
  };
}

export function ownTutorProfile(config: Config, row: TutorProfileRow, subjectRefs: SubjectRef[]) {
  return {
    ...publicTutor(config, row, subjectRefs),
    userId: row.userId,
    subjectIds: row.subjects,
    status: row.status,
    statusReason: row.statusReason,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export type TutorProfileView = ReturnType<typeof ownTutorProfile>;

/** Subjects of several tutors in one query (no N+1), each list sorted by name. */
export async function subjectsOfTutors(
  svc: ServiceContext,
  tutorProfileIds: readonly string[],
): Promise<Map<string, SubjectRef[]>> {
  if (tutorProfileIds.length === 0) return new Map();
  return groupSubjects(tutorProfileIds, await subjectRowsOf(svc, idList(tutorProfileIds)));
}

/** The subjects of the tutors whose ids `ids` (a list or a subquery) yields, one row per link. */
function subjectRowsOf(svc: ServiceContext, ids: SQLWrapper) {
  return svc.db
    .select({
      tutorProfileId: tutorSubjects.tutorProfileId,
      id: subjects.id,
      name: subjects.name,
      slug: subjects.slug,
    })
    .from(tutorSubjects)
    .innerJoin(subjects, eq(subjects.id, tutorSubjects.subjectId))
    .where(inArray(tutorSubjects.tutorProfileId, ids));
}

/** Each tutor's subjects, sorted by name. */
function groupSubjects(
  tutorProfileIds: readonly string[],
  rows: readonly (SubjectRef & { tutorProfileId: string })[],
): Map<string, SubjectRef[]> {
  const out = new Map<string, SubjectRef[]>(tutorProfileIds.map((id) => [id, []]));
  for (const { tutorProfileId, ...subject } of rows) out.get(tutorProfileId)?.push(subject);
  for (const list of out.values()) list.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return out;
}

/** 400 naming each id in `subjectIds` that is not a subject. */
async function assertSubjectsExist(svc: ServiceContext, subjectIds: readonly string[]): Promise<void> {
  const found = await svc.db
    .select({ id: subjects.id })
    .from(subjects)
    .where(inArray(subjects.id, idList(subjectIds)));
  const known = new Set(found.map((s) => s.id));
  const problems = subjectIds.flatMap((id, i) =>
    known.has(id) ? [] : [{ path: `subjectIds.${i}`, message: `Unknown subject id "${id}"` }],
  );
  if (problems.length > 0) throw badRequest("Some subjects do not exist", problems);
}

/** The caller's own tutor profile row (by the unique `tutorProfiles_by_user` index); 404 if none. */
export async function ownProfileRow(svc: ServiceContext, userId: string): Promise<TutorProfileRow> {
  const row = await svc.db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.userId, userId) });
  if (!row) throw notFound("Tutor profile");
  return row;
}

export async function withSubjects(svc: ServiceContext, row: TutorProfileRow): Promise<TutorProfileView> {
  const refs = await subjectsOfTutors(svc, [row.id]);
  return ownTutorProfile(svc.config, row, refs.get(row.id) ?? []);
}

export async function getOwnTutorProfile(svc: ServiceContext, userId: string): Promise<TutorProfileView> {
  return withSubjects(svc, await ownProfileRow(svc, userId));
}

/**
 * Creates the caller's tutor profile and links it to the user, in one batch. 409 when the user
 * already has one (the unique index on `userId` also settles concurrent creations).
 */
export async function createTutorProfile(
  svc: ServiceContext,
  user: { id: string; tutorProfileId: string | null },
  input: CreateTutorProfileInput,
): Promise<TutorProfileView> {
  if (user.tutorProfileId) throw conflict("You already have a tutor profile");
  const subjectIds = unique(input.subjectIds);
  await assertSubjectsExist(svc, subjectIds);
  const now = svc.clock.now();
  const row: TutorProfileRow = {
    id: newId("tut"),
    userId: user.id,
    displayName: input.displayName,
    bio: input.bio,
    subjects: subjectIds,
    hourlyCreditsPrice: input.hourlyCreditsPrice,
    avatarS3Key: null,
    avatarContentType: null,
    timezone: null,
    status: svc.config.TUTOR_APPROVAL_REQUIRED ? "pending" : "approved",
    statusReason: null,
    statusChangedAt: null,
    ratingSum: 0,
    ratingCount: 0,
    listedAt: 0,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await svc.db.batch([
      svc.db.insert(tutorProfiles).values(row),
      svc.db.insert(tutorSubjects).values(subjectIds.map((subjectId) => ({ tutorProfileId: row.id, subjectId }))),
      svc.db.update(users).set({ tutorProfileId: row.id, updatedAt: now }).where(eq(users.id, user.id)),
      ...relistStatements(svc.db, row.id),
    ]);
  } catch (err) {
    const existing = await svc.db.query.tutorProfiles.findFirst({
      where: eq(tutorProfiles.userId, user.id),
      columns: { id: true },
    });
    if (existing) throw conflict("You already have a tutor profile");
    throw err;
  }
  return withSubjects(svc, row);
}

/** Updates the given fields; `subjectIds` replaces the subject links (and their JSON mirror). */
export async function updateTutorProfile(
  svc: ServiceContext,
  userId: string,
  input: UpdateTutorProfileInput,
): Promise<TutorProfileView> {
  const row = await ownProfileRow(svc, userId);
  const patch: Partial<TutorProfileRow> = {};
  if (input.displayName !== undefined) patch.displayName = input.displayName;
  if (input.bio !== undefined) patch.bio = input.bio;
  if (input.hourlyCreditsPrice !== undefined) patch.hourlyCreditsPrice = input.hourlyCreditsPrice;
  const subjectIds = input.subjectIds && unique(input.subjectIds);
  if (subjectIds) {
    await assertSubjectsExist(svc, subjectIds);
    patch.subjects = subjectIds;
  }
  if (Object.keys(patch).length === 0) return withSubjects(svc, row);
  const now = svc.clock.now();
  patch.updatedAt = now;
  const statements: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] = [
    svc.db.update(tutorProfiles).set(patch).where(eq(tutorProfiles.id, row.id)),
  ];
  if (subjectIds) {
    statements.push(
      svc.db.delete(tutorSubjects).where(eq(tutorSubjects.tutorProfileId, row.id)),
      svc.db.insert(tutorSubjects).values(subjectIds.map((subjectId) => ({ tutorProfileId: row.id, subjectId }))),
    );
  }
  // price and subjects are sort keys and filters of the directory: its rows follow in this batch
  if (patch.hourlyCreditsPrice !== undefined || subjectIds) statements.push(...relistStatements(svc.db, row.id));
  await svc.db.batch(statements);
  return withSubjects(svc, { ...row, ...patch });
}

/** A tutor students may see and book (by primary key); 404 when there is none or it is not approved. */
export async function publicTutorRow(svc: ServiceContext, tutorProfileId: string): Promise<TutorProfileRow> {
  const row = await svc.db.query.tutorProfiles.findFirst({
    where: and(eq(tutorProfiles.id, tutorProfileId), isPublic),
  });
  if (!row) throw notFound("Tutor");
  return row;
}

/**
 * One tutor's public view; 404 if there is no such approved tutor — except to the tutor themselves
 * and to admins, who see a hidden profile too (`viewer` is asked only then: the public path reads
 * no caller).
 */
export async function getTutor(
  svc: ServiceContext,
  tutorProfileId: string,
  viewer: () => Promise<Pick<AuthUser, "context" | "tutorProfileId"> | null> = async () => null,
) {
  const row = await svc.db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.id, tutorProfileId) });
  if (!row) throw notFound("Tutor");
  if (row.status !== PUBLIC_TUTOR_STATUS) {
    const caller = await viewer();
    if (!caller || (caller.context !== "admin" && caller.tutorProfileId !== row.id)) throw notFound("Tutor");
  }
  const refs = await subjectsOfTutors(svc, [row.id]);
  return publicTutor(svc.config, row, refs.get(row.id) ?? []);
}
