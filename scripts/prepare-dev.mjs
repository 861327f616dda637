// Runs before `npm run dev`: creates .dev.vars from .dev.vars.example when missing, so a fresh clone
// starts with working local secrets. Never overwrites an existing .dev.vars.
import { copyFileSync, existsSync } from "node:fs";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local development values).");
}
