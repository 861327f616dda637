// Runs before `npm run dev:worker` (plain wrangler dev): creates .dev.vars from .dev.vars.example
// when missing, so a fresh clone starts with working local secrets. Never overwrites .dev.vars.
import { ensureDevVars } from "../tools/offline/vars.ts";

if (ensureDevVars()) console.log("Created .dev.vars from .dev.vars.example (local development values).");
