/**
 * Seed data for `npm run bench`, written as SQL files that `wrangler d1 execute --local --file` applies
 * (never through the API). Every id is deterministic, so the load generator knows what to ask for.
 *
 * One "heavy" student (`usr_bench`) owns the ledger chain, half of all sessions and half of all
 * notifications; the small and the large data set differ only in how many rows there are, so the same
 * requests return the same shapes (first pages of 20) at both scales.
 */
import { mkdirSync } from "node:fs";
import { LISTING_CURRENT } from "../src/db/schema/trust.ts";
import { DAY, ids, MINUTE, pad, type Row, type Scale, type SeedRun, SqlWriter } from "./seed-base.ts";
import { writeBookingRulesAndTimeOff } from "./seed-scheduling.ts";
import { writeSessions } from "./seed-sessions.ts";
import { writeLifecycleSeed } from "./seed-writes.ts";

const USER_COLS = ["id", "email", "name", "context", "studentProfileId", "tutorProfileId", "createdAt", "updatedAt"];
const LEDGER_COLS = [
  "id",
  "userId",
  "seq",
  "type",
  "amount",
  "balanceAfter",
  "source",
  "purchaseOrderId",
  "sessionId",
  "description",
  "idempotencyKey",
  "createdAt",
];

export interface SeedSummary {
  files: string[];
  rows: Record<string, number>;
}

/** Writes the SQL files of one data set into `dir`; `now` anchors every timestamp. */
const TUTOR_BIO = "Patient and precise; ten years of teaching.";

export function writeSeed(scale: Scale, dir: string, now: number): SeedSummary {
  mkdirSync(dir, { recursive: true });
  const w = new SqlWriter(dir);
  const rows: Record<string, number> = {};
  const count = (table: string, n: number) => {
    rows[table] = (rows[table] ?? 0) + n;
  };
  const t0 = now - 400 * DAY;
  const run: SeedRun = { scale, w, count, now, t0 };

  // Subjects: sub_00 … sub_19.
  const subjectRows = Array.from({ length: 20 }, (_, i) => [
    `sub_${pad(i, 2)}`,
    `Subject ${pad(i, 2)}`,
    `subject-${pad(i, 2)}`,
    t0,
  ]);
  w.insert("subjects", ["id", "name", "slug", "createdAt"], subjectRows);
  count("subjects", subjectRows.length);
  const subjectById = new Map(subjectRows.map((r) => [r[0] as string, r]));

  // Users without a tutor profile: the heavy student, the admin, booking lanes, webhook buyers.
  const users: Row[] = [
    [ids.benchUser, "bench@bench.test", "Bench Student", "student", ids.benchStudent, null, t0, t0],
    [ids.adminUser, ids.adminEmail, "Bench Admin", "admin", null, null, t0, t0],
  ];
  const students: Row[] = [[ids.benchStudent, ids.benchUser, "Bench Student", t0, t0]];
  for (let k = 0; k < ids.lanes; k++) {
    users.push([ids.laneStudentUser(k), `bk${k}@bench.test`, `Lane ${k}`, "student", ids.laneStudent(k), null, t0, t0]);
    students.push([ids.laneStudent(k), ids.laneStudentUser(k), `Lane ${k}`, t0, t0]);
  }
  for (let k = 0; k < ids.webhookOrders; k++) {
    const stu = `stu_wh_${pad(k, 3)}`;
    users.push([ids.webhookUser(k), `wh${k}@bench.test`, `Buyer ${k}`, "student", stu, null, t0, t0]);
    students.push([stu, ids.webhookUser(k), `Buyer ${k}`, t0, t0]);
  }
  for (let k = 0; k < ids.seriesRuns; k++) {
    users.push([
      ids.seriesStudentUser(k),
      `sr${k}@bench.test`,
      `Series ${k}`,
      "student",
      ids.seriesStudent(k),
      null,
      t0,
      t0,
    ]);
    students.push([ids.seriesStudent(k), ids.seriesStudentUser(k), `Series ${k}`, t0, t0]);
  }
  w.insert("users", USER_COLS, users);
  count("users", users.length);
  w.insert("studentProfiles", ["id", "userId", "displayName", "createdAt", "updatedAt"], students);
  count("studentProfiles", students.length);

  // Tutors: the filler directory (every one teaches subject-00 plus one other), the slots tutor and
  // one tutor per booking lane (all week, UTC, teaching sub_19 only).
  const tutors: { id: string; user: string; subjects: string[]; price: number; weekly: [number, number] }[] = [];
  for (let i = 0; i < scale.tutors; i++) {
    tutors.push({
      id: `tut_${pad(i, 5)}`,
      user: `usr_t_${pad(i, 5)}`,
      subjects: ["sub_00", `sub_${pad(1 + (i % 18), 2)}`],
      price: 1 + (i % 5),
      weekly: [8 * 60, 20 * 60],
    });
  }
  tutors.push({ id: ids.slotsTutor, user: "usr_slots", subjects: ["sub_01"], price: 2, weekly: [8 * 60, 20 * 60] });
  tutors.push({ id: ids.rulesTutor, user: "usr_rules", subjects: ["sub_01"], price: 2, weekly: [8 * 60, 20 * 60] });
  tutors.push({
    id: ids.calendarTutor,
    user: ids.calendarTutorUser,
    subjects: ["sub_01"],
    price: 2,
    weekly: [0, 1440],
  });
  for (let j = 0; j < ids.seriesTutors; j++) {
    tutors.push({
      id: ids.seriesTutor(j),
      user: `usr_srt_${pad(j, 3)}`,
      subjects: [ids.laneSubject],
      price: 1,
      weekly: [0, 1440],
    });
  }
  for (let k = 0; k < ids.lanes; k++) {
    tutors.push({
      id: ids.laneTutor(k),
      user: `usr_bkt_${pad(k, 3)}`,
      subjects: [ids.laneSubject],
      price: 1,
      weekly: [0, 1440],
    });
  }
  w.insert(
    "users",
    USER_COLS,
    tutors.map((t) => [t.user, `${t.user}@bench.test`, `Tutor ${t.id}`, "tutor", null, t.id, t0, t0]),
  );
  count("users", tutors.length);
  // Ratings: every fourth tutor unrated, the others 1–30 reviews; creation times one second apart.
  const rated = tutors.map((_, i) => {
    const ratingCount = i % 4 === 0 ? 0 : 1 + (i % 30);
    return { ratingCount, ratingSum: ratingCount === 0 ? 0 : ratingCount + ((i * 13) % (4 * ratingCount + 1)) };
  });
  const createdAt = (i: number) => t0 - (tutors.length - i) * 1000;
  w.insert(
    "tutorProfiles",
    [
      "id",
      "userId",
      "displayName",
      "bio",
      "subjects",
      "hourlyCreditsPrice",
      "timezone",
      "ratingSum",
      "ratingCount",
      "createdAt",
      "updatedAt",
    ],
    tutors.map((t, i) => [
      t.id,
      t.user,
      `Tutor ${t.id}`,
      TUTOR_BIO,
      JSON.stringify(t.subjects),
      t.price,
      "UTC",
      rated[i]?.ratingSum ?? 0,
      rated[i]?.ratingCount ?? 0,
      createdAt(i),
      t0,
    ]),
  );
  count("tutorProfiles", tutors.length);
  // The directory's current versions, as relisting writes them (src/modules/tutors/listing.ts).
  w.insert(
    "tutorListings",
    [
      "tutorProfileId",
      "subjectKey",
      "createdAt",
      "hourlyCreditsPrice",
      "ratingAverage",
      "ratingCount",
      "validFrom",
      "validTo",
      // the card, as the profile above
      "displayName",
      "bio",
      "timezone",
      "ratingSum",
      "subjectsJson",
    ],
    tutors.flatMap((t, i) => {
      const r = rated[i] ?? { ratingSum: 0, ratingCount: 0 };
      const average = r.ratingCount === 0 ? 0 : r.ratingSum / r.ratingCount;
      const subjectsJson = JSON.stringify(
        t.subjects.map((id) => subjectById.get(id)).map((s) => ({ id: s?.[0], name: s?.[1], slug: s?.[2] })),
      );
      return ["*", ...t.subjects].map((k) => [
        t.id,
        k,
        createdAt(i),
        t.price,
        average,
        r.ratingCount,
        0,
        LISTING_CURRENT,
        `Tutor ${t.id}`,
        TUTOR_BIO,
        "UTC",
        r.ratingSum,
        subjectsJson,
      ]);
    }),
    // a card makes a row ≈ 250 bytes: 100 rows keep a statement well inside D1's 100 KB limit
    100,
  );
  count(
    "tutorListings",
    tutors.reduce((n, t) => n + 1 + t.subjects.length, 0),
  );
  w.insert(
    "tutorSubjects",
    ["tutorProfileId", "subjectId"],
    tutors.flatMap((t) => t.subjects.map((s) => [t.id, s])),
  );
  count(
    "tutorSubjects",
    tutors.reduce((n, t) => n + t.subjects.length, 0),
  );
  w.insert(
    "tutorAvailability",
    ["id", "tutorProfileId", "timezone", "weekday", "start", "end"],
    tutors.flatMap((t) =>
      Array.from({ length: 7 }, (_, d) => [`avl_${t.id}_${d}`, t.id, "UTC", d, t.weekly[0], t.weekly[1]]),
    ),
  );
  count("tutorAvailability", tutors.length * 7);

  writeBookingRulesAndTimeOff(run);

  // The heavy student's ledger: one chain seq 1..n (the insert trigger checks every link).
  function* ledger(): Generator<Row> {
    let balance = 0;
    for (let seq = 1; seq <= scale.ledgerEntries; seq++) {
      const credit = seq === 1 || seq % 2 === 0;
      const amount = seq === 1 ? 1_000 : credit ? 3 : 2;
      balance += credit ? amount : -amount;
      yield [
        `led_bench_${pad(seq, 6)}`,
        ids.benchUser,
        seq,
        credit ? "credit" : "debit",
        amount,
        balance,
        "manual_adjustment",
        null,
        null,
        "Seeded entry",
        `seed:${ids.benchUser}:${seq}`,
        t0 + seq * MINUTE,
      ];
    }
  }
  w.insert("creditsLedger", LEDGER_COLS, ledger());
  // Booking lanes start with plenty of credits (seq 1).
  w.insert(
    "creditsLedger",
    LEDGER_COLS,
    Array.from({ length: ids.lanes }, (_, k) => [
      `led_bk_${pad(k, 3)}`,
      ids.laneStudentUser(k),
      1,
      "credit",
      1_000_000,
      1_000_000,
      "manual_adjustment",
      null,
      null,
      "Seeded credits",
      `seed:${ids.laneStudentUser(k)}:1`,
      t0,
    ]),
  );
  // Series students: enough for a series of 12 hour-long lessons at 1 credit an hour, many times over.
  w.insert(
    "creditsLedger",
    LEDGER_COLS,
    Array.from({ length: ids.seriesRuns }, (_, k) => [
      `led_sr_${pad(k, 3)}`,
      ids.seriesStudentUser(k),
      1,
      "credit",
      1_000,
      1_000,
      "manual_adjustment",
      null,
      null,
      "Seeded credits",
      `seed:${ids.seriesStudentUser(k)}:1`,
      t0,
    ]),
  );
  count("creditsLedger", scale.ledgerEntries + ids.lanes + ids.seriesRuns);

  writeSessions(run);
  writeLifecycleSeed(run);

  // Notifications: half the heavy student's (every 10th of them unread), half other users'.
  function* notifications(): Generator<Row> {
    for (let i = 0; i < scale.notifications; i++) {
      const mine = i % 2 === 0;
      const unread = mine ? (i / 2) % 10 === 0 : i % 3 === 0;
      yield [
        `ntf_${pad(i, 6)}`,
        mine ? ids.benchUser : `usr_f_${pad(i % 997, 3)}`,
        "session_reminder",
        JSON.stringify({ sessionId: `ses_${pad(i, 6)}`, hoursBefore: 24 }),
        unread ? 0 : 1,
        null,
        now - (scale.notifications - i) * 30_000,
      ];
    }
  }
  w.insert("notifications", ["id", "userId", "type", "data", "read", "dedupeKey", "createdAt"], notifications());
  count("notifications", scale.notifications);

  // Pending orders for the webhook → credited path (one buyer each; their checkout session ids known).
  w.insert(
    "creditPurchaseOrders",
    [
      "id",
      "userId",
      "packId",
      "stripeCheckoutSessionId",
      "checkoutUrl",
      "totalCredits",
      "totalCents",
      "currency",
      "status",
      "createdAt",
      "updatedAt",
    ],
    Array.from({ length: ids.webhookOrders }, (_, k) => [
      ids.webhookOrder(k),
      ids.webhookUser(k),
      "pack_5",
      ids.webhookCheckout(k),
      `https://checkout.stripe.test/${ids.webhookCheckout(k)}`,
      ids.webhookCredits,
      5000,
      "usd",
      "pending",
      now,
      now,
    ]),
  );
  count("creditPurchaseOrders", ids.webhookOrders);

  return { files: w.finish(), rows };
}
