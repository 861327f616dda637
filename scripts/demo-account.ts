/**
 * The demo's second half: what admins and users can see and undo about themselves — the admin audit
 * log, a student's data export, "log out everywhere", and a student who closes their account with a
 * lesson booked (refunded, the tutor told, the address free for a new, empty account). Every API
 * call goes through the typed SDK.
 */
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import { type Client, poll, QUARTER, rand, type Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

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
  const [asAdmin, asStudent, asTutor] = [sdkAs(c, admin), sdkAs(c, student), sdkAs(c, tutor)];
  const audit = unwrap(
    await asAdmin.GET("/v1/admin/audit-log", { params: { query: { actorId: admin.user.id, limit: 10 } } }),
  );
  step(
    "Admin's audit log (newest first): every admin action, written in the same transaction as the action",
    audit.items.map((e) => `${e.action} ${e.targetType} ${e.targetId}`),
  );

  const exported: Record<string, unknown> = unwrap(await asStudent.GET("/v1/me/export"));
  step(
    "Student downloaded everything stored about them (GET /v1/me/export): rows per section",
    Object.fromEntries(Object.entries(exported).flatMap(([k, v]) => (Array.isArray(v) ? [[k, v.length]] : []))),
  );

  const out = await asStudent.POST("/v1/auth/logout-all");
  if (out.response.status !== 204) throw new Error(`logout-all: HTTP ${out.response.status}`);
  const refused = await sdkAs(c).POST("/v1/auth/refresh", { body: { refreshToken: student.refreshToken } });
  step(
    `Student logged out everywhere (POST /v1/auth/logout-all): their refresh token now gets ${refused.response.status}`,
  );

  // A second student books a lesson for tomorrow, then closes the account.
  const email = `robin.${rand()}@example.com`;
  const robin = await c.login(email);
  const asRobin = sdkAs(c, robin);
  unwrap(
    await asAdmin.POST("/v1/admin/credits/adjustments", {
      params: { header: idempotencyKey(`demo-welcome-${robin.user.id}`) },
      body: { userId: robin.user.id, type: "credit", amount: 3, description: "Welcome credits" },
    }),
  );
  const from = Math.ceil((Date.now() + 24 * 3600_000) / QUARTER) * QUARTER;
  const slots = unwrap(
    await asRobin.GET("/v1/tutors/{id}/slots", {
      params: { path: { id: tutorProfileId }, query: { from, to: from + 4 * 3600_000, durationMinutes: 60 } },
    }),
  );
  const slot = slots.items[0];
  if (!slot) throw new Error("no slot offered tomorrow");
  const booked = unwrap(
    await asRobin.POST("/v1/sessions", {
      params: { header: idempotencyKey(`demo-robin-${robin.user.id}`) },
      body: { tutorProfileId, subjectId, startTime: slot.startTime, durationMinutes: 60 },
    }),
  );
  step(`Student ${email} got 3 welcome credits from the admin and booked a lesson for tomorrow`, {
    session: booked.id,
    creditsCost: booked.creditsCost,
  });

  const closed = await asRobin.DELETE("/v1/me");
  if (closed.response.status !== 204) throw new Error(`close account: HTTP ${closed.response.status}`);
  const gone = await asRobin.GET("/v1/me");
  const told = await poll("the tutor's cancellation notice", 20_000, async () => {
    const notes = unwrap(await asTutor.GET("/v1/notifications"));
    return notes.items.find((n) => (n.data as { sessionId?: string }).sessionId === booked.id);
  });
  const again = await c.login(email);
  const fresh = unwrap(await sdkAs(c, again).GET("/v1/credits/balance"));
  step("The student closed their account (DELETE /v1/me)", {
    oldToken: gone.response.status,
    tutorNotified: told.type,
    reLogin: { sameUser: again.user.id === robin.user.id, balance: fresh.balance },
  });
}
