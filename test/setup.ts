/**
 * Runs before every test file: applies the migrations (as wrangler would) and records every SQL
 * text the code prepares. After the file, each recorded query is EXPLAINed: a full table scan fails
 * the file. So every query added to the code is checked by the tests that exercise it.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, expect } from "vitest";
import { fullScans } from "./helpers/query-plans";

globalThis.__tutorloopSqlLog ??= new Set<string>();

beforeAll(async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

afterAll(async () => {
  const log = globalThis.__tutorloopSqlLog;
  if (!log || log.size === 0) return;
  const queries = [...log];
  log.clear();
  const scans = await fullScans(env.DB, queries);
  expect(scans, "queries that scan a whole table (add an index)").toEqual([]);
});
