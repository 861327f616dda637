/** The subject catalogue: public list, admin-only creation. */
import { asc } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { subjects } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { conflict } from "../../lib/errors";
import type { CreateSubjectInput } from "./schemas";

export type Subject = typeof subjects.$inferSelect;

/** Every subject, by name (a short fixed list: one page, walked on `subjects_by_name`). */
export async function listSubjects(svc: ServiceContext): Promise<Subject[]> {
  return svc.db.select().from(subjects).orderBy(asc(subjects.name));
}

/** Creates a subject; a slug already in use is 409 (the unique index decides, so races are safe). */
export async function createSubject(svc: ServiceContext, input: CreateSubjectInput): Promise<Subject> {
  const [created] = await svc.db
    .insert(subjects)
    .values({ id: newId("sub"), name: input.name, slug: input.slug, createdAt: svc.clock.now() })
    .onConflictDoNothing({ target: subjects.slug })
    .returning();
  if (!created) throw conflict(`A subject with slug "${input.slug}" already exists`);
  return created;
}
