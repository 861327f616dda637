import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import * as schema from "../../src/db/schema";
import { newId } from "../../src/lib/crypto";

const tables = (Object.values(schema) as unknown[])
  .filter((v): v is SQLiteTable => is(v, SQLiteTable))
  .map((t) => getTableConfig(t));

async function master(type: "table" | "index" | "trigger") {
  const { results } = await env.DB.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = ?")
    .bind(type)
    .all<{ name: string; tbl_name: string; sql: string | null }>();
  return new Map(results.map((r) => [r.name, r]));
}

describe("migrations", () => {
  it("declares a non-trivial schema (guards the checks below against an empty list)", () => {
    expect(tables.length).toBeGreaterThanOrEqual(19);
    expect(tables.flatMap((t) => t.indexes).length).toBeGreaterThanOrEqual(30);
  });

  it("record every migration file as applied, and applying them again changes nothing", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
    expect(results.map((r) => r.name)).toEqual(env.TEST_MIGRATIONS.map((m) => m.name));
    expect(results.map((r) => r.name)).toContain("0000_init.sql");
    const before = [...(await master("index")).keys()].sort();
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    expect([...(await master("index")).keys()].sort()).toEqual(before);
  });

  it("create every table of src/db/schema/ with every column", async () => {
    const existing = await master("table");
    for (const table of tables) {
      expect(existing.has(table.name), `table ${table.name}`).toBe(true);
      const { results } = await env.DB.prepare('SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?)')
        .bind(table.name)
        .all<{ name: string; nn: number; pk: number }>();
      const columns = new Map(results.map((c) => [c.name, c]));
      expect([...columns.keys()].sort(), `columns of ${table.name}`).toEqual(table.columns.map((c) => c.name).sort());
      for (const col of table.columns) {
        const actual = columns.get(col.name);
        // Primary keys and NOT NULL columns are NOT NULL in the database too.
        if (col.notNull) expect(actual?.nn === 1 || (actual?.pk ?? 0) > 0, `${table.name}.${col.name}`).toBe(true);
      }
    }
  });

  it("create every index of src/db/schema/ on its table, unique where declared", async () => {
    const existing = await master("index");
    for (const table of tables) {
      for (const index of table.indexes) {
        const name = index.config.name;
        const row = existing.get(name);
        expect(row, `index ${name}`).toBeDefined();
        expect(row?.tbl_name, `table of ${name}`).toBe(table.name);
        const cols = await env.DB.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
          .bind(name)
          .all<{ name: string }>();
        expect(
          cols.results.map((c) => c.name),
          `columns of ${name}`,
        ).toEqual(index.config.columns.map((c) => (c as { name: string }).name));
        const list = await env.DB.prepare('SELECT name, "unique" AS isUnique FROM pragma_index_list(?)')
          .bind(table.name)
          .all<{ name: string; isUnique: number }>();
        expect(list.results.find((i) => i.name === name)?.isUnique, `uniqueness of ${name}`).toBe(
          index.config.unique ? 1 : 0,
        );
      }
    }
  });

  it.each([
    "users_by_email",
    "users_by_context",
    "studentProfiles_by_user",
    "tutorProfiles_by_user",
    "tutorProfiles_by_subject",
    "subjects_by_slug",
    "sessions_by_tutor_and_time",
    "sessions_by_student_and_time",
    "sessions_by_status_and_time",
    "creditPurchaseOrders_by_user_and_createdAt",
    "creditPurchaseOrders_by_checkoutSessionId",
    "creditsLedger_by_user_and_seq",
    "creditsLedger_by_idempotencyKey",
    "creditsLedger_by_user_and_createdAt",
    "creditsLedger_by_session",
    "sessionRecordings_by_session",
    "deepgramWebhooks_by_requestId",
    "lessonReports_by_session",
    "notifications_by_user_and_createdAt",
    "otpCodes_by_email_and_createdAt",
    "rateLimitEvents_by_bucket_and_createdAt",
    "refreshTokens_by_tokenHash",
    "refreshTokens_by_family",
  ])("create the index %s", async (name) => {
    expect((await master("index")).has(name)).toBe(true);
  });

  it("create every named CHECK constraint and the ledger triggers", async () => {
    const existing = await master("table");
    for (const table of tables) {
      for (const check of table.checks) {
        expect(existing.get(table.name)?.sql ?? "", `check ${check.name}`).toContain(`"${check.name}"`);
      }
    }
    const triggers = await master("trigger");
    for (const name of LEDGER_TRIGGERS) {
      expect(triggers.get(name)?.tbl_name, `trigger ${name}`).toBe("creditsLedger");
    }
  });

  // 0003 rebuilds creditsLedger (DROP TABLE + RENAME), which drops every trigger of the old table: the
  // four guards exist only because 0003 creates them again. Each live trigger must be exactly the one
  // 0003 declares, and 0003 must create them after the rebuild (a trigger created before the DROP would
  // be gone).
  it("0003 rebuilds the ledger and recreates all four ledger triggers after the rebuild", async () => {
    const m0003 = env.TEST_MIGRATIONS.find((m) => m.name === "0003_money_after_the_fact.sql");
    expect(m0003, "migration 0003").toBeDefined();
    const queries = (m0003?.queries ?? []).map(normalizeSql);
    const dropAt = queries.findIndex((q) => /^DROP TABLE `?creditsLedger`?$/i.test(q));
    const renameAt = queries.findIndex((q) => /^ALTER TABLE `__new_creditsLedger` RENAME TO `creditsLedger`$/i.test(q));
    expect(dropAt, "0003 drops the old ledger").toBeGreaterThanOrEqual(0);
    expect(renameAt, "0003 renames the rebuilt ledger").toBeGreaterThan(dropAt);
    const live = await env.DB.prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'creditsLedger'",
    ).all<{ name: string; sql: string }>();
    // Exactly these four and the one 0006 adds: no leftover trigger of an earlier schema, none missing.
    expect(live.results.map((t) => t.name).sort()).toEqual(
      [...LEDGER_TRIGGERS, "creditsLedger_refund_needs_open_session"].sort(),
    );
    for (const t of live.results.filter((x) => (LEDGER_TRIGGERS as readonly string[]).includes(x.name))) {
      const createdAt = queries.indexOf(normalizeSql(t.sql));
      expect(createdAt, `${t.name} is created by 0003, as declared there`).toBeGreaterThan(renameAt);
    }
  });
});

const LEDGER_TRIGGERS = [
  "creditsLedger_no_update",
  "creditsLedger_no_delete",
  "creditsLedger_chain",
  "creditsLedger_no_replace",
] as const;

/** A statement as sqlite_master keeps it and as the migration file states it, compared loosely. */
function normalizeSql(sql: string) {
  return sql
    .replace(/--> statement-breakpoint/g, "")
    .replace(/\s+/g, " ")
    .replace(/;\s*$/, "")
    .trim();
}

interface Entry {
  seq: number;
  type?: string;
  amount: number;
  balanceAfter: number;
  source?: string;
  idempotencyKey?: string;
}

const ledgerInsert = (userId: string, e: Entry) =>
  env.DB.prepare(
    `INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, purchaseOrderId, sessionId, description, idempotencyKey, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, 'test', ?, ?)`,
  ).bind(
    newId("led"),
    userId,
    e.seq,
    e.type ?? "credit",
    e.amount,
    e.balanceAfter,
    e.source ?? "manual_adjustment",
    // a session refund needs an unsettled session (migration 0006's trigger)
    e.source === "session_refund" ? OPEN_SESSION : null,
    e.idempotencyKey ?? `test:${crypto.randomUUID()}`,
    Date.now(),
  );

const OPEN_SESSION = "ses_raw_open";
beforeAll(async () => {
  await env.DB.prepare(
    `INSERT OR IGNORE INTO sessions (id, tutorProfileId, studentProfileId, startTime, endTime, status, creditsCost, createdAt, updatedAt)
     VALUES (?, 'tp', 'sp', 0, 1, 'scheduled', 1, 0, 0)`,
  )
    .bind(OPEN_SESSION)
    .run();
});

const insert = (userId: string, e: Entry) => ledgerInsert(userId, e).run();

const entries = async (userId: string) =>
  (
    await env.DB.prepare("SELECT seq, type, amount, balanceAfter FROM creditsLedger WHERE userId = ? ORDER BY seq")
      .bind(userId)
      .all<{ seq: number; type: string; amount: number; balanceAfter: number }>()
  ).results;

const newUser = () => newId("usr");

describe("ledger constraints (raw SQL)", () => {
  it("accepts a first entry seq 1, credit 5, balanceAfter 5, and a consistent chain after it", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await insert(u, { seq: 2, type: "debit", amount: 3, balanceAfter: 2 });
    await insert(u, { seq: 3, type: "debit", amount: 2, balanceAfter: 0 });
    await insert(u, { seq: 4, amount: 7, balanceAfter: 7 });
    expect(await entries(u)).toEqual([
      { seq: 1, type: "credit", amount: 5, balanceAfter: 5 },
      { seq: 2, type: "debit", amount: 3, balanceAfter: 2 },
      { seq: 3, type: "debit", amount: 2, balanceAfter: 0 },
      { seq: 4, type: "credit", amount: 7, balanceAfter: 7 },
    ]);
  });

  it("keeps one chain per user", async () => {
    const a = newUser();
    const b = newUser();
    await insert(a, { seq: 1, amount: 5, balanceAfter: 5 });
    await insert(b, { seq: 1, amount: 2, balanceAfter: 2 });
    await insert(a, { seq: 2, amount: 1, balanceAfter: 6 });
    expect((await entries(b)).map((e) => e.balanceAfter)).toEqual([2]);
  });

  it("rejects a negative balance even when the chain is consistent", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await expect(insert(u, { seq: 2, type: "debit", amount: 8, balanceAfter: -3 })).rejects.toThrow(
      /creditsLedger_balance_non_negative/,
    );
    await expect(insert(newUser(), { seq: 1, type: "debit", amount: 1, balanceAfter: -1 })).rejects.toThrow(
      /creditsLedger_balance_non_negative/,
    );
    expect(await entries(u)).toHaveLength(1);
  });

  it("rejects an amount of 0", async () => {
    const u = newUser();
    await expect(insert(u, { seq: 1, amount: 0, balanceAfter: 0 })).rejects.toThrow(/creditsLedger_amount_positive/);
    expect(await entries(u)).toHaveLength(0);
  });

  it("rejects a negative amount", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 10, balanceAfter: 10 });
    // A "debit" of -3 that would raise the balance to 13: consistent arithmetic, still refused.
    await expect(insert(u, { seq: 2, type: "debit", amount: -3, balanceAfter: 13 })).rejects.toThrow(
      /creditsLedger_amount_positive/,
    );
    await expect(insert(u, { seq: 2, type: "credit", amount: -3, balanceAfter: 7 })).rejects.toThrow(
      /creditsLedger_amount_positive/,
    );
    expect(await entries(u)).toHaveLength(1);
  });

  it("rejects a broken seq chain", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await expect(insert(u, { seq: 3, amount: 1, balanceAfter: 6 })).rejects.toThrow(/ledger_chain_broken/);
    // A repeated seq is a collision, never a second "latest" entry.
    await expect(insert(u, { seq: 1, amount: 1, balanceAfter: 1 })).rejects.toThrow(
      /ledger_chain_broken|ledger_append_only|UNIQUE/,
    );
    await expect(insert(newUser(), { seq: 2, amount: 1, balanceAfter: 1 })).rejects.toThrow(/ledger_chain_broken/);
    await expect(insert(newUser(), { seq: 0, amount: 1, balanceAfter: 1 })).rejects.toThrow(
      /ledger_chain_broken|creditsLedger_seq_positive/,
    );
    expect(await entries(u)).toHaveLength(1);
    await insert(u, { seq: 2, amount: 1, balanceAfter: 6 });
  });

  it("rejects a balanceAfter that is not previous ± amount", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await expect(insert(u, { seq: 2, amount: 2, balanceAfter: 8 })).rejects.toThrow(/ledger_chain_broken/);
    await expect(insert(u, { seq: 2, type: "debit", amount: 2, balanceAfter: 7 })).rejects.toThrow(
      /ledger_chain_broken/,
    );
    await expect(insert(u, { seq: 2, type: "debit", amount: 2, balanceAfter: 4 })).rejects.toThrow(
      /ledger_chain_broken/,
    );
    await expect(insert(newUser(), { seq: 1, amount: 5, balanceAfter: 6 })).rejects.toThrow(/ledger_chain_broken/);
    expect(await entries(u)).toHaveLength(1);
  });

  it("rejects a duplicate idempotencyKey, also across users", async () => {
    const key = `purchase:${newId("ord")}`;
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5, source: "purchase", idempotencyKey: key });
    await expect(
      insert(u, { seq: 2, amount: 5, balanceAfter: 10, source: "purchase", idempotencyKey: key }),
    ).rejects.toThrow(/ledger_append_only|UNIQUE constraint failed: creditsLedger\.idempotencyKey/);
    await expect(
      insert(newUser(), { seq: 1, amount: 5, balanceAfter: 5, source: "purchase", idempotencyKey: key }),
    ).rejects.toThrow(/ledger_append_only|UNIQUE constraint failed: creditsLedger\.idempotencyKey/);
    expect(await entries(u)).toHaveLength(1);
  });

  // Each bad row below is otherwise consistent (seq = previous + 1, balanceAfter = previous ± amount,
  // not negative), so the chain trigger and the balance CHECK let it through and the refusal can only
  // come from the named CHECK. ("gift" is not "credit", so the chain trigger counts it as a debit.)
  it("rejects an unknown type or source by its CHECK constraint", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await expect(insert(u, { seq: 2, type: "gift", amount: 1, balanceAfter: 4 })).rejects.toThrow(
      /CHECK constraint failed: creditsLedger_type\b/,
    );
    await expect(insert(u, { seq: 2, amount: 1, balanceAfter: 6, source: "lottery" })).rejects.toThrow(
      /CHECK constraint failed: creditsLedger_source\b/,
    );
    expect(await entries(u)).toHaveLength(1);
    // The same rows with a known type and source are accepted: the CHECK was the only objection.
    await insert(u, { seq: 2, type: "debit", amount: 1, balanceAfter: 4 });
    await insert(u, { seq: 3, amount: 1, balanceAfter: 5, source: "purchase_reinstated" });
    expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([5, 4, 5]);
  });

  it("rejects any UPDATE of a ledger row", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    for (const sql of [
      "UPDATE creditsLedger SET balanceAfter = 500 WHERE userId = ?",
      "UPDATE creditsLedger SET description = 'edited' WHERE userId = ?",
      "UPDATE creditsLedger SET amount = amount WHERE userId = ?",
    ]) {
      await expect(env.DB.prepare(sql).bind(u).run(), sql).rejects.toThrow(/ledger_append_only/);
    }
    await expect(
      env.DB.prepare("INSERT OR REPLACE INTO creditsLedger SELECT * FROM creditsLedger WHERE userId = ?").bind(u).run(),
    ).rejects.toThrow(/ledger_append_only|ledger_chain_broken|UNIQUE/);
    const row = await env.DB.prepare("SELECT balanceAfter, description FROM creditsLedger WHERE userId = ?")
      .bind(u)
      .first();
    expect(row).toEqual({ balanceAfter: 5, description: "test" });
  });

  it("rejects INSERT OR REPLACE that would silently delete an earlier entry", async () => {
    const u = newUser();
    const key = `k:${newId("x")}`;
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5, idempotencyKey: key });
    await expect(
      env.DB.prepare(
        "INSERT OR REPLACE INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, description, idempotencyKey, createdAt) VALUES (?, ?, 2, 'credit', 1, 6, 'manual_adjustment', 'x', ?, 0)",
      )
        .bind(newId("led"), u, key)
        .run(),
    ).rejects.toThrow(/ledger_append_only/);
    expect(await entries(u)).toEqual([{ seq: 1, type: "credit", amount: 5, balanceAfter: 5 }]);
  });

  it("rejects amounts that are not whole credits", async () => {
    const u = newUser();
    await expect(
      env.DB.prepare(
        "INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, description, idempotencyKey, createdAt) VALUES (?, ?, 1, 'credit', 2.5, 2.5, 'manual_adjustment', 'x', ?, 0)",
      )
        .bind(newId("led"), u, newId("k"))
        .run(),
    ).rejects.toThrow(/ledger_not_integer/);
    expect(await entries(u)).toEqual([]);
  });

  // creditsLedger_no_replace, directly. BEFORE triggers run before UNIQUE/PRIMARY KEY checks, and this
  // one (created last) before the chain trigger: so a collision must surface as `ledger_append_only`,
  // never as a UNIQUE error (plain INSERT) nor as a silent delete of the earlier row (INSERT OR REPLACE,
  // whose implicit DELETE fires no trigger). Every row is otherwise chain-consistent where it can be.
  describe("creditsLedger_no_replace", () => {
    const cols = "(id, userId, seq, type, amount, balanceAfter, source, description, idempotencyKey, createdAt)";
    async function seeded() {
      const u = newUser();
      const id = newId("led");
      const key = `k:${newId("x")}`;
      await env.DB.prepare(
        `INSERT INTO creditsLedger ${cols} VALUES (?, ?, 1, 'credit', 5, 5, 'manual_adjustment', 'first', ?, 0)`,
      )
        .bind(id, u, key)
        .run();
      return { u, id, key };
    }
    const unchangedRows = async (u: string, id: string) =>
      expect(
        await env.DB.prepare("SELECT id, seq, amount, balanceAfter, description FROM creditsLedger WHERE userId = ?")
          .bind(u)
          .all()
          .then((r) => r.results),
      ).toEqual([{ id, seq: 1, amount: 5, balanceAfter: 5, description: "first" }]);

    it.each(["INSERT", "INSERT OR REPLACE"])("%s with a colliding id → ledger_append_only", async (verb) => {
      const { u, id } = await seeded();
      // seq 2, balance 5 + 1 = 6, fresh key: only the id collides.
      await expect(
        env.DB.prepare(
          `${verb} INTO creditsLedger ${cols} VALUES (?, ?, 2, 'credit', 1, 6, 'manual_adjustment', 'x', ?, 0)`,
        )
          .bind(id, u, `k:${newId("x")}`)
          .run(),
      ).rejects.toThrow(/ledger_append_only/);
      await unchangedRows(u, id);
    });

    it.each(["INSERT", "INSERT OR REPLACE"])(
      "%s with a colliding idempotencyKey → ledger_append_only",
      async (verb) => {
        const { u, id, key } = await seeded();
        await expect(
          env.DB.prepare(
            `${verb} INTO creditsLedger ${cols} VALUES (?, ?, 2, 'credit', 1, 6, 'manual_adjustment', 'x', ?, 0)`,
          )
            .bind(newId("led"), u, key)
            .run(),
        ).rejects.toThrow(/ledger_append_only/);
        // Another user's chain cannot take the key either.
        await expect(
          env.DB.prepare(
            `${verb} INTO creditsLedger ${cols} VALUES (?, ?, 1, 'credit', 1, 1, 'manual_adjustment', 'x', ?, 0)`,
          )
            .bind(newId("led"), newUser(), key)
            .run(),
        ).rejects.toThrow(/ledger_append_only/);
        await unchangedRows(u, id);
      },
    );

    it.each(["INSERT", "INSERT OR REPLACE"])("%s with a colliding (userId, seq) → ledger_append_only", async (verb) => {
      const { u, id } = await seeded();
      // Any colliding seq also breaks the chain; no_replace fires first and names the real problem.
      await expect(
        env.DB.prepare(
          `${verb} INTO creditsLedger ${cols} VALUES (?, ?, 1, 'credit', 1, 6, 'manual_adjustment', 'x', ?, 0)`,
        )
          .bind(newId("led"), u, `k:${newId("x")}`)
          .run(),
      ).rejects.toThrow(/ledger_append_only/);
      await unchangedRows(u, id);
    });

    it.each([
      // [label, seq, amount, balanceAfter] on top of balance 5 at seq 1; amount/balance pairs add up.
      ["a fractional amount and balance", 2, 0.5, 5.5],
      ["a fractional seq", 1.5, 1, 6],
      ["a text amount", 2, "1x", 6],
      ["a text balanceAfter", 2, 1, "6x"],
    ] as const)("rejects %s → ledger_not_integer", async (_label, seq, amount, balanceAfter) => {
      const { u, id } = await seeded();
      await expect(
        env.DB.prepare(
          `INSERT INTO creditsLedger ${cols} VALUES (?, ?, ?, 'credit', ?, ?, 'manual_adjustment', 'x', ?, 0)`,
        )
          .bind(newId("led"), u, seq, amount, balanceAfter, `k:${newId("x")}`)
          .run(),
      ).rejects.toThrow(/ledger_not_integer/);
      await unchangedRows(u, id);
    });

    it("accepts a well-formed next entry (the refusals above are not blanket refusals)", async () => {
      const { u } = await seeded();
      await env.DB.prepare(
        `INSERT OR REPLACE INTO creditsLedger ${cols} VALUES (?, ?, 2, 'credit', 1, 6, 'manual_adjustment', 'x', ?, 0)`,
      )
        .bind(newId("led"), u, `k:${newId("x")}`)
        .run();
      expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([5, 6]);
    });
  });

  // purchase_reversal is the only entry that may leave a balance below zero (credits already spent);
  // a credit may leave it negative while it climbs back; every other debit still needs balanceAfter ≥ 0.
  describe("negative balances", () => {
    const nonReversalSources = [
      "purchase",
      "session_booking",
      "session_refund",
      "manual_adjustment",
      "purchase_reinstated",
    ];

    it("a purchase_reversal may take the balance below zero, and again while negative", async () => {
      const u = newUser();
      await insert(u, { seq: 1, amount: 5, balanceAfter: 5, source: "purchase" });
      await insert(u, { seq: 2, type: "debit", amount: 8, balanceAfter: -3, source: "purchase_reversal" });
      await insert(u, { seq: 3, type: "debit", amount: 2, balanceAfter: -5, source: "purchase_reversal" });
      await insert(newUser(), { seq: 1, type: "debit", amount: 1, balanceAfter: -1, source: "purchase_reversal" });
      expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([5, -3, -5]);
    });

    it.each(nonReversalSources)(
      "a %s debit may not go below zero, from zero or from a negative balance",
      async (source) => {
        const u = newUser();
        await insert(u, { seq: 1, amount: 2, balanceAfter: 2, source: "purchase" });
        await expect(insert(u, { seq: 2, type: "debit", amount: 3, balanceAfter: -1, source })).rejects.toThrow(
          /CHECK constraint failed: creditsLedger_balance_non_negative/,
        );
        await insert(u, { seq: 2, type: "debit", amount: 5, balanceAfter: -3, source: "purchase_reversal" });
        await expect(insert(u, { seq: 3, type: "debit", amount: 1, balanceAfter: -4, source })).rejects.toThrow(
          /CHECK constraint failed: creditsLedger_balance_non_negative/,
        );
        expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([2, -3]);
      },
    );

    it.each(nonReversalSources)("a %s credit while negative is allowed, even if still negative", async (source) => {
      const u = newUser();
      await insert(u, { seq: 1, type: "debit", amount: 4, balanceAfter: -4, source: "purchase_reversal" });
      await insert(u, { seq: 2, amount: 1, balanceAfter: -3, source });
      await insert(u, { seq: 3, amount: 5, balanceAfter: 2, source });
      expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([-4, -3, 2]);
    });

    it("the chain trigger still checks a reversal's balanceAfter", async () => {
      const u = newUser();
      await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
      for (const balanceAfter of [-2, -4, 3, 13, 0]) {
        await expect(
          insert(u, { seq: 2, type: "debit", amount: 8, balanceAfter, source: "purchase_reversal" }),
          `balanceAfter ${balanceAfter}`,
        ).rejects.toThrow(/ledger_chain_broken/);
      }
      await expect(
        insert(u, { seq: 3, type: "debit", amount: 8, balanceAfter: -3, source: "purchase_reversal" }),
      ).rejects.toThrow(/ledger_chain_broken/);
      await insert(u, { seq: 2, type: "debit", amount: 8, balanceAfter: -3, source: "purchase_reversal" });
      expect((await entries(u)).map((e) => e.balanceAfter)).toEqual([5, -3]);
    });
  });

  it("rejects any DELETE of a ledger row", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await insert(u, { seq: 2, type: "debit", amount: 5, balanceAfter: 0 });
    await expect(
      env.DB.prepare("DELETE FROM creditsLedger WHERE userId = ? AND seq = 2").bind(u).run(),
    ).rejects.toThrow(/ledger_append_only/);
    await expect(env.DB.prepare("DELETE FROM creditsLedger WHERE userId = ?").bind(u).run()).rejects.toThrow(
      /ledger_append_only/,
    );
    expect(await entries(u)).toHaveLength(2);
  });

  it("rolls back the whole D1 batch when one statement violates a CHECK", async () => {
    const u = newUser();
    const notificationId = newId("ntf");
    await expect(
      env.DB.batch([
        env.DB.prepare(
          "INSERT INTO notifications (id, userId, type, data, read, createdAt) VALUES (?, ?, 'payment_completed', '{}', 0, ?)",
        ).bind(notificationId, u, Date.now()),
        ledgerInsert(u, { seq: 1, amount: 5, balanceAfter: 5 }),
        ledgerInsert(u, { seq: 2, type: "debit", amount: 8, balanceAfter: -3 }),
      ]),
    ).rejects.toThrow(/creditsLedger_balance_non_negative/);
    expect(await entries(u)).toHaveLength(0);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM notifications WHERE id = ?")
      .bind(notificationId)
      .first<{ n: number }>();
    expect(n?.n).toBe(0);
    // The same batch without the bad statement commits everything.
    await env.DB.batch([
      ledgerInsert(u, { seq: 1, amount: 5, balanceAfter: 5 }),
      ledgerInsert(u, { seq: 2, type: "debit", amount: 5, balanceAfter: 0 }),
    ]);
    expect(await entries(u)).toHaveLength(2);
  });

  it("rolls back the whole D1 batch when a trigger aborts", async () => {
    const u = newUser();
    await insert(u, { seq: 1, amount: 5, balanceAfter: 5 });
    await expect(
      env.DB.batch([
        ledgerInsert(u, { seq: 2, amount: 1, balanceAfter: 6 }),
        env.DB.prepare("UPDATE creditsLedger SET description = 'x' WHERE userId = ? AND seq = 1").bind(u),
      ]),
    ).rejects.toThrow(/ledger_append_only/);
    expect((await entries(u)).map((e) => e.seq)).toEqual([1]);
  });
});

// The order's money columns (migration 0003): what was reversed never exceeds what was credited, the
// dispute's part never exceeds what was reversed, and refunds never exceed what was paid.
describe("purchase order money constraints (raw SQL)", () => {
  async function order(totalCredits = 5, totalCents = 5000) {
    const id = newId("ord");
    await env.DB.prepare(
      "INSERT INTO creditPurchaseOrders (id, userId, packId, totalCredits, totalCents, currency, status, createdAt, updatedAt) VALUES (?, ?, 'pack_5', ?, ?, 'usd', 'completed', 0, 0)",
    )
      .bind(id, newUser(), totalCredits, totalCents)
      .run();
    return id;
  }
  const set = (id: string, assignments: string) =>
    env.DB.prepare(`UPDATE creditPurchaseOrders SET ${assignments} WHERE id = ?`).bind(id).run();
  const money = (id: string) =>
    env.DB.prepare(
      "SELECT reversedCredits, disputeReversedCredits, refundedCents FROM creditPurchaseOrders WHERE id = ?",
    )
      .bind(id)
      .first();

  it("accepts the limits themselves", async () => {
    const id = await order();
    await set(id, "reversedCredits = 5, disputeReversedCredits = 5, refundedCents = 5000");
    expect(await money(id)).toEqual({ reversedCredits: 5, disputeReversedCredits: 5, refundedCents: 5000 });
  });

  it.each([
    ["reversedCredits > totalCredits", "reversedCredits = 6", "creditPurchaseOrders_reversed_within_credits"],
    ["reversedCredits < 0", "reversedCredits = -1", "creditPurchaseOrders_reversed_within_credits"],
    [
      "disputeReversedCredits > reversedCredits",
      "reversedCredits = 2, disputeReversedCredits = 3",
      "creditPurchaseOrders_dispute_within_reversed",
    ],
    ["disputeReversedCredits < 0", "disputeReversedCredits = -1", "creditPurchaseOrders_dispute_within_reversed"],
    ["refundedCents > totalCents", "refundedCents = 5001", "creditPurchaseOrders_refund_within_total"],
    ["refundedCents < 0", "refundedCents = -1", "creditPurchaseOrders_refund_within_total"],
  ])("rejects %s", async (_label, assignments, constraint) => {
    const id = await order();
    await expect(set(id, assignments)).rejects.toThrow(new RegExp(`CHECK constraint failed: ${constraint}\\b`));
    expect(await money(id)).toEqual({ reversedCredits: 0, disputeReversedCredits: 0, refundedCents: 0 });
  });

  it("rejects an INSERT that starts out of bounds", async () => {
    await expect(
      env.DB.prepare(
        "INSERT INTO creditPurchaseOrders (id, userId, packId, totalCredits, totalCents, currency, status, reversedCredits, createdAt, updatedAt) VALUES (?, ?, 'pack_5', 5, 5000, 'usd', 'completed', 6, 0, 0)",
      )
        .bind(newId("ord"), newUser())
        .run(),
    ).rejects.toThrow(/CHECK constraint failed: creditPurchaseOrders_reversed_within_credits/);
  });
});
