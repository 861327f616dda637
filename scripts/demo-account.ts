/**
 * The demo's second half: what admins and users can see and undo about themselves — the admin audit
 * log, a student's data export, "log out everywhere", and a student who closes their account with a
 * lesson booked (refunded, the tutor told, the address free for a new, empty account).
 */
import { type Client, poll, QUARTER, rand, type Tokens } from "../tools/offline/client.ts";

export interface AccountDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  student: Tokens;
  tutor: Tokens;
  tutorProfileId: string;
  subjectId: string;
}

export async function accountJourney({ c, step, admin, student, tutor, tutorProfileId, subjectId }: AccountDemo) {
  const audit = await c.ok<{ items: { action: string; targetType: string; targetId: string }[] }>(
    `/v1/admin/audit-log?actorId=${admin.user.id}&limit=10`,
    { token: admin.accessToken },
  );
  step(
    "Admin's audit log (newest first): every admin action, written in the same transaction as the action",
    audit.items.map((e) => `${e.action} ${e.targetType} ${e.targetId}`),
  );

  const exported = await c.ok<Record<string, unknown>>("/v1/me/export", { token: student.accessToken });
  step(
    "Student downloaded everything stored about them (GET /v1/me/export): rows per section",
    Object.fromEntries(Object.entries(exported).flatMap(([k, v]) => (Array.isArray(v) ? [[k, v.length]] : []))),
  );

  await c.ok("/v1/auth/logout-all", { method: "POST", token: student.accessToken }, 204);
  const refused = await c.call("/v1/auth/refresh", { body: { refreshToken: student.refreshToken } });
  step(`Student logged out everywhere (POST /v1/auth/logout-all): their refresh token now gets ${refused.status}`);

  // A second student books a lesson for tomorrow, then closes the account.
  const email = `robin.${rand()}@example.com`;
  const robin = await c.login(email);
  await c.ok(
    "/v1/admin/credits/adjustments",
    {
      token: admin.accessToken,
      body: { userId: robin.user.id, type: "credit", amount: 3, description: "Welcome credits" },
      headers: { "idempotency-key": `demo-welcome-${robin.user.id}` },
    },
    201,
  );
  const from = Math.ceil((Date.now() + 24 * 3600_000) / QUARTER) * QUARTER;
  const slots = await c.ok<{ items: { startTime: number }[] }>(
    `/v1/tutors/${tutorProfileId}/slots?from=${from}&to=${from + 4 * 3600_000}&durationMinutes=60`,
  );
  const slot = slots.items[0];
  if (!slot) throw new Error("no slot offered tomorrow");
  const booked = await c.ok<{ id: string; creditsCost: number }>(
    "/v1/sessions",
    {
      token: robin.accessToken,
      body: { tutorProfileId, subjectId, startTime: slot.startTime, durationMinutes: 60 },
      headers: { "idempotency-key": `demo-robin-${robin.user.id}` },
    },
    201,
  );
  step(`Student ${email} got 3 welcome credits from the admin and booked a lesson for tomorrow`, {
    session: booked.id,
    creditsCost: booked.creditsCost,
  });

  await c.ok("/v1/me", { method: "DELETE", token: robin.accessToken }, 204);
  const gone = await c.call("/v1/me", { token: robin.accessToken });
  const told = await poll("the tutor's cancellation notice", 20_000, async () => {
    const notes = await c.ok<{ items: { type: string; data: { sessionId?: string } }[] }>("/v1/notifications", {
      token: tutor.accessToken,
    });
    return notes.items.find((n) => n.data.sessionId === booked.id);
  });
  const again = await c.login(email);
  const fresh = await c.ok<{ balance: number }>("/v1/credits/balance", { token: again.accessToken });
  step("The student closed their account (DELETE /v1/me)", {
    oldToken: gone.status,
    tutorNotified: told.type,
    reLogin: { sameUser: again.user.id === robin.user.id, balance: fresh.balance },
  });
}
