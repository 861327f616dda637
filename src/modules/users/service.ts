/** The caller's own account: name and context (student ⇄ tutor). */
import { eq } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { users } from "../../db/schema";
import { DomainError } from "../../lib/errors";
import { publicUser, switchFamily, tokenPair } from "../auth/service";

const gone = () => new DomainError("unauthorized", "Invalid or expired access token");

export async function renameMe(svc: ServiceContext, auth: Auth, name: string | undefined) {
  if (name === undefined) return publicUser(auth.user);
  const [user] = await svc.db
    .update(users)
    .set({ name, updatedAt: svc.clock.now() })
    .where(eq(users.id, auth.userId))
    .returning();
  if (!user) throw gone();
  return publicUser(user);
}

/**
 * Switches the caller's context and answers a token pair for it (the profile must exist). The new
 * refresh token rotates within the caller's session (the access token's `sid`), so logging out of
 * the new pair also ends the old one; a session that has ended (logged out, revoked, expired) is
 * 401 and nothing changes.
 */
export async function switchContext(svc: ServiceContext, auth: Auth, context: "student" | "tutor") {
  if (context === "tutor" && !auth.user.tutorProfileId)
    throw new DomainError("forbidden", "Create a tutor profile first");
  if (context === "student" && !auth.user.studentProfileId) {
    throw new DomainError("forbidden", "This account has no student profile");
  }
  const issued = await switchFamily(svc, auth.userId, auth.sessionId);
  const [user] = await svc.db
    .update(users)
    .set({ context, updatedAt: svc.clock.now() })
    .where(eq(users.id, auth.userId))
    .returning();
  if (!user) throw gone();
  return tokenPair(svc, user, issued);
}
