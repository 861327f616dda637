/**
 * The account behind a login, and ADMIN_EMAILS as the one source of who is an admin: a listed
 * address gets the admin context at login (also an account that existed before it was listed), an
 * admin whose address is no longer listed is demoted to `student` at their next login or refresh.
 * (Admin routes re-check the database, so a demotion is effective there at once.)
 */
import { and, eq } from "drizzle-orm";
import type { AuthUser, ServiceContext } from "../../context";
import type { UserContext } from "../../db/schema";
import { studentProfiles, users } from "../../db/schema";
import { newId } from "../../lib/crypto";

const isListedAdmin = (svc: ServiceContext, email: string) => svc.config.ADMIN_EMAILS.includes(email);

/** The user of `email` after a successful code check: created on first login, admin per ADMIN_EMAILS. */
export async function loginUser(svc: ServiceContext, email: string, now: number): Promise<AuthUser> {
  const user =
    (await svc.db.query.users.findFirst({ where: eq(users.email, email) })) ?? (await createUser(svc, email, now));
  if (isListedAdmin(svc, email) && user.context !== "admin") return setContext(svc, user, "admin", now);
  return demoteIfDelisted(svc, user, now);
}

/** `user` demoted to `student` if it is an admin whose address left ADMIN_EMAILS; else `user`. */
export async function demoteIfDelisted(svc: ServiceContext, user: AuthUser, now: number): Promise<AuthUser> {
  if (user.context !== "admin" || isListedAdmin(svc, user.email)) return user;
  return setContext(svc, user, "student", now);
}

/**
 * `user` in context `to`, re-read. A demotion only changes an admin (a concurrent switch to tutor
 * by the same user is not overwritten).
 */
async function setContext(svc: ServiceContext, user: AuthUser, to: "admin" | "student", now: number) {
  const where = to === "student" ? and(eq(users.id, user.id), eq(users.context, "admin")) : eq(users.id, user.id);
  const [updated] = await svc.db.update(users).set({ context: to, updatedAt: now }).where(where).returning();
  return updated ?? (await svc.db.query.users.findFirst({ where: eq(users.id, user.id) })) ?? user;
}

async function createUser(svc: ServiceContext, email: string, now: number): Promise<AuthUser> {
  const userId = newId("usr");
  const profileId = newId("stu");
  const context: UserContext = isListedAdmin(svc, email) ? "admin" : "student";
  try {
    await svc.db.batch([
      svc.db.insert(users).values({
        id: userId,
        email,
        name: null,
        context,
        studentProfileId: profileId,
        tutorProfileId: null,
        createdAt: now,
        updatedAt: now,
      }),
      svc.db.insert(studentProfiles).values({
        id: profileId,
        userId,
        displayName: email.split("@")[0] ?? email,
        createdAt: now,
        updatedAt: now,
      }),
    ]);
  } catch (err) {
    // A concurrent first login for the same address won the race: use its user.
    if (!String((err as Error).message).includes("UNIQUE")) throw err;
  }
  const user = await svc.db.query.users.findFirst({ where: eq(users.email, email) });
  if (!user) throw new Error("user vanished after insert");
  return user;
}
