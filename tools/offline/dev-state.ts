/**
 * What a running `npm run dev` tells the other local tools (`npm run seed`, `npm run demo`): its
 * URLs, which providers it emulates and the admin address, in .wrangler/dev/stack.json while it runs.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_VARS, OFFLINE_ADMIN_EMAIL, PROVIDERS, type Provider, readDevVars } from "./vars.ts";
import { ROOT } from "./wrangler.ts";

export const DEV_DIR = join(ROOT, ".wrangler", "dev");
const STATE_FILE = join(DEV_DIR, "stack.json");

export interface DevStack {
  apiUrl: string;
  emulatorUrl: string | null;
  emulated: Provider[];
  adminEmail: string;
  /** The local state directory, when not wrangler's default. */
  persistTo?: string;
  pid: number;
}

export const firstAdmin = (adminEmails: string | undefined) =>
  adminEmails
    ?.split(",")
    .map((s) => s.trim())
    .find(Boolean) ?? OFFLINE_ADMIN_EMAIL;

export function writeDevStack(s: DevStack) {
  writeFileSync(STATE_FILE, `${JSON.stringify(s, null, 2)}\n`);
}

export function removeDevStack() {
  rmSync(STATE_FILE, { force: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The running dev stack (unless API_URL says otherwise), else defaults for one started by hand: API_URL / EMULATOR_URL or
 * 127.0.0.1:8787 / 8789, every provider emulated, the first address of ADMIN_EMAILS in .dev.vars.
 */
export function findDevStack(): DevStack & { running: boolean } {
  if (!process.env.API_URL && existsSync(STATE_FILE)) {
    const s = JSON.parse(readFileSync(STATE_FILE, "utf8")) as DevStack;
    if (alive(s.pid)) return { ...s, running: true };
  }
  const strip = (u: string) => u.replace(/\/+$/, "");
  return {
    apiUrl: strip(process.env.API_URL ?? "http://127.0.0.1:8787"),
    emulatorUrl: strip(process.env.EMULATOR_URL ?? "http://127.0.0.1:8789"),
    emulated: PROVIDERS,
    adminEmail: firstAdmin(readDevVars(DEV_VARS).ADMIN_EMAILS),
    pid: 0,
    running: false,
  };
}
