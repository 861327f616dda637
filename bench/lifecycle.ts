/**
 * A lesson's later steps as write paths (bench/paths.ts): reschedules of the sessions the bookings
 * just made, no-show reports of both kinds on lessons begun hours ago (a tutor no-show is a refunded
 * cancellation through the student's CreditLedger; a student no-show marks the lesson held), a
 * student's dispute of a held lesson and the admin's resolution of it (a split of the held credits:
 * one back to the student, one earned by the tutor). The lessons are seeded per booking lane
 * (bench/seed-writes.ts), so no two requests touch the same session.
 */
import { CONNECTIONS, DURATION_S, log, token } from "./config.ts";
import { runPath, type WriteMode } from "./paths.ts";
import { ids } from "./seed-base.ts";
import { type Server, sdkAs } from "./server.ts";

const HOUR = 3_600_000;
/** Reschedules move each booked lesson this many hours later, where its lane's tutor is free. */
const RESCHEDULE_SHIFT_HOURS = 400;
const PROBES = 3;

export interface BookedSession {
  id: string;
  lane: number;
  /** Hours after the bookings' first hour. */
  slot: number;
}

export async function lifecyclePaths(server: Server, base: number, booked: BookedSession[], mode: WriteMode) {
  const students = (
    await Promise.all(Array.from({ length: ids.lanes }, (_, k) => token(ids.laneStudentUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const tutors = (
    await Promise.all(Array.from({ length: ids.lanes }, (_, k) => token(ids.laneTutorUser(k), "tutor")))
  ).map((t) => sdkAs(server, t));
  const admin = sdkAs(server, await token(ids.adminUser, "admin"));
  const lanes = mode.timed ? ids.lanes : 2;
  // each path for half the read routes' duration (or until its lessons run out)
  const common = { server, probes: PROBES, mode, concurrency: CONNECTIONS, durationMs: DURATION_S * 500 };
  const why = (status: number, error: unknown) => `${status} ${JSON.stringify(error ?? null).slice(0, 300)}`;

  const pool = mode.timed ? booked : booked.slice(0, 2);
  log(`  reschedules: ${pool.length} booked sessions, ${mode.timed ? CONNECTIONS : 1} in flight`);
  const reschedule = await runPath({
    ...common,
    count: pool.length,
    budgetKey: "POST /v1/sessions/{id}/reschedule",
    op: async (i) => {
      const s = pool[i];
      if (!s) return { ok: false, why: "no session" };
      const { response, error } = (await students[s.lane]?.POST("/v1/sessions/{id}/reschedule", {
        params: { path: { id: s.id } },
        body: { startTime: base + (RESCHEDULE_SHIFT_HOURS + s.slot) * HOUR },
      })) ?? { response: new Response(null, { status: 599 }) };
      return { ok: response.status === 200, res: response, why: why(response.status, error) };
    },
  });

  log(`  no-shows: ${lanes} tutor no-shows (by the student), ${lanes} student no-shows (by the tutor)`);
  const tutorNoShow = await runPath({
    ...common,
    count: lanes,
    budgetKey: "POST /v1/sessions/{id}/no-show",
    op: async (k) => {
      const { response, error } = (await students[k]?.POST("/v1/sessions/{id}/no-show", {
        params: { path: { id: ids.tutorNoShowSession(k) } },
        body: { party: "tutor" },
      })) ?? { response: new Response(null, { status: 599 }) };
      return { ok: response.status === 200, res: response, why: why(response.status, error) };
    },
  });
  const studentNoShow = await runPath({
    ...common,
    count: lanes,
    budgetKey: "POST /v1/sessions/{id}/no-show",
    op: async (k) => {
      const { response, error } = (await tutors[k]?.POST("/v1/sessions/{id}/no-show", {
        params: { path: { id: ids.studentNoShowSession(k) } },
        body: { party: "student" },
      })) ?? { response: new Response(null, { status: 599 }) };
      return { ok: response.status === 200, res: response, why: why(response.status, error) };
    },
  });

  log(`  disputes of ${lanes} held lessons, then their resolution by an admin`);
  const dispute = await runPath({
    ...common,
    count: lanes,
    budgetKey: "POST /v1/sessions/{id}/dispute",
    op: async (k) => {
      const { response, error } = (await students[k]?.POST("/v1/sessions/{id}/dispute", {
        params: { path: { id: ids.disputeSession(k) } },
        body: { reason: "The tutor left after ten minutes." },
      })) ?? { response: new Response(null, { status: 599 }) };
      return { ok: response.status === 200, res: response, why: why(response.status, error) };
    },
  });
  const resolve = await runPath({
    ...common,
    count: lanes,
    budgetKey: "POST /v1/admin/sessions/{id}/resolve",
    op: async (k) => {
      const { response, error } = await admin.POST("/v1/admin/sessions/{id}/resolve", {
        params: { path: { id: ids.disputeSession(k) } },
        body: { refundCredits: 1, note: "Half the lesson took place." },
      });
      return { ok: response.status === 200, res: response, why: why(response.status, error) };
    },
  });
  return { reschedule, tutorNoShow, studentNoShow, dispute, resolve };
}
