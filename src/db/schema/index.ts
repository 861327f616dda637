/**
 * The whole data model (docs/data-model.md) as drizzle tables, one file per area. drizzle-kit turns
 * these files into the SQL migrations in `migrations/`; code imports them from here.
 *
 * Index names: the seed's names (`by_user`, `by_session`, …) repeat across tables, but SQLite index
 * names are global to a database, so every index is named `<table>_<seed name>`.
 */
export * from "./earnings";
export * from "./integrations";
export * from "./lessons";
export * from "./money";
export * from "./payouts";
export * from "./people";
export * from "./platform";
export * from "./reports";
export * from "./scheduling";
export * from "./trust";
