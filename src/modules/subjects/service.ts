/** The subject catalogue: public list, admin-only creation. */
import { asc } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { subjects } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { conflict } from "../../lib/errors";
import { auditEntry, insertAudit } from "../audit/store";
import type { CreateSubjectInput } from "./schemas";

export type Subject = typeof subjects.$inferSelect;

/** Every subject, by name (a short fixed list: one page, walked on `subjects_by_name`). */
export async function listSubjects(svc: ServiceContext): Promise<Subject[]> {
  return svc.db.select().from(subjects).orderBy(asc(subjects.name));
}

/**
 * Creates a subject; a slug already in use is 409 (the unique index decides, so races are safe). The
 * admin's audit row is in the same batch, written only if the subject row (fresh id) was.
 */
export async function createSubject(svc: ServiceContext, adminId: string, input: CreateSubjectInput): Promise<Subject> {
  const id = newId("sub");
  const now = svc.clock.now();
  const [inserted] = await svc.d1.batch([
    toStatement(
      svc.d1,
      svc.db
        .insert(subjects)
        .values({ id, name: input.name, slug: input.slug, createdAt: now })
        .onConflictDoNothing({ target: subjects.slug })
        .returning(),
    ),
    insertAudit(svc.d1, auditEntry(svc, adminId, "subject.create", id, { name: input.name, slug: input.slug }, now), {
      sql: "EXISTS (SELECT 1 FROM subjects WHERE id = ?)",
      binds: [id],
    }),
  ]);
  const created = inserted?.results[0] as Subject | undefined;
  if (!created) throw conflict(`A subject with slug "${input.slug}" already exists`);
  return created;
}
