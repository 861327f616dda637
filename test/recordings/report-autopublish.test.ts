/**
 * A report draft publishes itself REPORT_REVIEW_HOURS (24 in the suite) after the model wrote it:
 * the cron's sweep, run here at times set with the test clock (its own file: the clock moves).
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { jobContext } from "../../src/jobs/context";
import { autoPublishReports } from "../../src/modules/recordings/auto-publish";
import { runScheduled } from "../../src/scheduled";
import { call, env, json } from "../helpers/api";
import { moveClockTo, resetClock, serverNow } from "../helpers/clock";
import { eventTypesOf } from "../integrations/helpers";
import { draftReport, reportOf } from "./helpers";

const HOUR = 3_600_000;
const readyNotes = async (token: string, sessionId: string) =>
  (
    await json<{ items: { type: string; data: { sessionId?: string } }[] }>(await call("/v1/notifications", { token }))
  ).items.filter((n) => n.type === "report_ready" && n.data.sessionId === sessionId);

afterAll(resetClock);

describe("report auto-publish", () => {
  it("publishes a draft once its review window has passed, once, and skips one being regenerated", async () => {
    const a = await draftReport();
    const b = await draftReport();
    const written = await serverNow();
    // b has a generation running: it waits for it
    await env.DB.prepare("UPDATE lessonReports SET generationId = 'gen_live', generationStartedAt = ? WHERE id = ?")
      .bind(written + 24 * HOUR, b.report.id)
      .run();

    expect((await autoPublishReports(await jobContext(env, "test"))).published).toBe(0);
    await moveClockTo(written + 23 * HOUR);
    expect((await autoPublishReports(await jobContext(env, "test"))).published).toBe(0);
    expect(await reportOf(a.w.sessionId, a.w.student.token)).toBeUndefined();

    await moveClockTo(written + 24 * HOUR + 60_000);
    const svc = await jobContext(env, "test");
    // the cron tick runs the sweep; a second, overlapping run publishes nothing twice
    await Promise.all([
      runScheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }),
        env,
        createExecutionContext(),
      ),
      autoPublishReports(svc),
    ]);
    const published = await reportOf(a.w.sessionId, a.w.student.token);
    expect(published).toMatchObject({ status: "published", version: 1 });
    expect(published?.publishedAt).toBeGreaterThanOrEqual(written + 24 * HOUR);
    expect(await readyNotes(a.w.student.token, a.w.sessionId)).toHaveLength(1);
    expect(await reportOf(b.w.sessionId, b.w.student.token)).toBeUndefined();
    expect((await autoPublishReports(svc)).published).toBe(0);
    // the overlapping runs announce it once; the draft still waiting announces nothing
    expect(await eventTypesOf(a.report.id)).toEqual(["report.published"]);
    expect(await eventTypesOf(b.report.id)).toEqual([]);
  });
});
