import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the SQL migrations in `migrations/`; wrangler applies them. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/*.ts",
  out: "./migrations",
});
