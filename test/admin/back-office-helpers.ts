/** Shared by the back-office read tests: the four callers of an admin route, raw orders and query plans. */
import { expect } from "vitest";
import { call, createUser, env, expectProblem, type TestUser } from "../helpers/api";
import { parameterCount } from "../helpers/query-plans";

export interface Callers {
  admin: TestUser;
  student: TestUser;
  tutor: TestUser;
}

export const callers = async (): Promise<Callers> => ({
  admin: await createUser("admin"),
  student: await createUser("student"),
  tutor: await createUser("tutor"),
});

/** Anonymous 401, student and tutor 403 (problem+json), admin 200. */
export async function expectAdminOnly(path: string, who: Callers) {
  await expectProblem(await call(path), 401, "unauthorized");
  await expectProblem(await call(path, { token: who.student.token }), 403, "forbidden");
  await expectProblem(await call(path, { token: who.tutor.token }), 403, "forbidden");
  const ok = await call(path, { token: who.admin.token });
  expect(ok.status, await ok.clone().text()).toBe(200);
}

/** A purchase order written as the fulfilment leaves it (`completed` at `completedAt`) or still pending. */
export async function insertOrder(
  userId: string,
  o: { credits: number; cents: number; currency?: string; createdAt?: number; completedAt?: number | null },
) {
  const id = `ord_${crypto.randomUUID().replaceAll("-", "")}`;
  const created = o.createdAt ?? o.completedAt ?? Date.now();
  const completedAt = o.completedAt === undefined ? created : o.completedAt;
  await env.DB.prepare(
    `INSERT INTO creditPurchaseOrders (id, userId, packId, totalCredits, totalCents, currency, status, completedAt, stripePaymentIntentId, createdAt, updatedAt)
VALUES (?, ?, 'pack_5', ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      userId,
      o.credits,
      o.cents,
      o.currency ?? "usd",
      completedAt === null ? "pending" : "completed",
      completedAt,
      completedAt === null ? null : `pi_${id}`,
      created,
      created,
    )
    .run();
  return id;
}

/**
 * The query plans of the SQL texts the code prepared so far that match `pattern` (test/setup.ts
 * records every text the code prepares); fails when none matches, so a renamed query is noticed.
 */
export async function plansOf(pattern: RegExp): Promise<string[][]> {
  const texts = [...(globalThis.__tutorloopSqlLog ?? [])].filter((s) => pattern.test(s));
  expect(texts.length, `no recorded query matches ${pattern}`).toBeGreaterThan(0);
  const plans: string[][] = [];
  for (const sql of texts) {
    const stmt = env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const n = parameterCount(sql);
    const { results } = await (n ? stmt.bind(...Array(n).fill(null)) : stmt).all<{ detail: string }>();
    plans.push(results.map((r) => r.detail));
  }
  return plans;
}

/** Every matching query searches `index` and never sorts for an ORDER BY. */
export async function expectIndex(pattern: RegExp, index: string) {
  for (const plan of await plansOf(pattern)) {
    expect(plan.join("\n")).toMatch(new RegExp(`USING (COVERING )?INDEX ${index}\\b`));
    expect(plan.join("\n")).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  }
}
