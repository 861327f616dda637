/**
 * Sessions over HTTP: a context switch stays in the caller's session (logout of the new pair ends
 * the old one), and logout-all ends every session of the caller, before and after a switch.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { c, email, expectProblem, type Tokens } from "./helpers.ts";

/** Logs in a new user and gives it a tutor profile on a seeded subject (e2e/run.ts seeds the catalogue). */
async function studentWithTutorProfile(tag: string): Promise<Tokens> {
  const tokens = await c.login(email(tag));
  const subjects = await c.ok<{ items: { id: string }[] }>("/v1/subjects");
  const subject = subjects.items[0];
  assert.ok(subject, "GET /v1/subjects is empty: the demo seed did not run");
  await c.ok(
    "/v1/me/tutor-profile",
    {
      token: tokens.accessToken,
      body: { displayName: `Tutor ${tag}`, bio: "Teaches well.", subjectIds: [subject.id], hourlyCreditsPrice: 2 },
    },
    201,
  );
  return tokens;
}

const refresh = (refreshToken: string) => c.call<Tokens>("/v1/auth/refresh", { body: { refreshToken } });
const becomeTutor = (t: Tokens) => c.ok<Tokens>("/v1/me/context", { token: t.accessToken, body: { context: "tutor" } });

describe("sessions over HTTP", () => {
  it("logout-all across a context switch: every refresh token from before and after the switch is refused", async () => {
    const login = await studentWithTutorProfile("all");
    const tutor = await becomeTutor(login);
    assert.equal(tutor.user.context, "tutor");
    const refreshed = await c.ok<Tokens>("/v1/auth/refresh", { body: { refreshToken: tutor.refreshToken } });
    const otherDevice = await c.login(login.user.email);

    const out = await c.call("/v1/auth/logout-all", { method: "POST", token: refreshed.accessToken });
    assert.equal(out.status, 204);
    for (const t of [login, tutor, refreshed, otherDevice]) {
      await expectProblem(await refresh(t.refreshToken), 401, "unauthorized");
    }
    // A still-valid access token cannot start a new session by switching either.
    await expectProblem(
      await c.call("/v1/me/context", { token: refreshed.accessToken, body: { context: "student" } }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await c.call("/v1/auth/logout-all", { method: "POST", expectViolation: true }),
      401,
      "unauthorized",
    );
  });

  it("a context switch stays in the session: logout of the newer pair also revokes the older one", async () => {
    const login = await studentWithTutorProfile("switch");
    const tutor = await becomeTutor(login);
    const out = await c.call("/v1/auth/logout", {
      token: tutor.accessToken,
      body: { refreshToken: tutor.refreshToken },
    });
    assert.equal(out.status, 204);
    await expectProblem(await refresh(tutor.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(login.refreshToken), 401, "unauthorized");
  });

  it("another device's session survives a logout of this one after a switch", async () => {
    const login = await studentWithTutorProfile("device");
    const phone = await c.login(login.user.email);
    const tutor = await becomeTutor(login);
    await c.ok("/v1/auth/logout", { token: tutor.accessToken, body: { refreshToken: tutor.refreshToken } }, 204);
    const next = await c.ok<Tokens>("/v1/auth/refresh", { body: { refreshToken: phone.refreshToken } });
    assert.equal(next.user.id, login.user.id);
  });
});
