/**
 * `npm run seed`: (re)seeds the demo catalogue into the running `npm run dev` stack: subjects, six
 * tutors with avatars, availability and prices, a student with credits and past and upcoming lessons
 * (one with a lesson report), and the admin. Safe to run again: it converges instead of duplicating.
 * Finds the stack through .wrangler/dev/stack.json; API_URL / EMULATOR_URL point it elsewhere.
 */
import { Client } from "../tools/offline/client.ts";
import { DEV_DIR, findDevStack } from "../tools/offline/dev-state.ts";
import { seedDemo } from "../tools/offline/seed.ts";

const stack = findDevStack();
if (!stack.emulatorUrl) {
  console.error("npm run seed needs the provider emulator (its inbox has the login codes): start npm run dev");
  process.exit(1);
}
const client = new Client(stack.apiUrl, stack.emulatorUrl);
try {
  await client.ok("/v1/health");
  await client.emulator("/__control/health");
} catch (err) {
  console.error(
    `Cannot reach the API at ${stack.apiUrl} and the emulator at ${stack.emulatorUrl}: start them with npm run dev.\n${(err as Error).message}`,
  );
  process.exit(1);
}
console.log(`Seeding the demo catalogue into ${stack.apiUrl}…`);
try {
  const s = await seedDemo({
    client,
    adminEmail: stack.adminEmail,
    emulated: stack.emulated,
    workDir: DEV_DIR,
    persistTo: stack.persistTo,
    log: (m) => console.log(`  ${m}`),
  });
  console.log(
    `Done: ${s.subjects} subjects, ${s.tutors.length} tutors; ${s.student.email} has ${s.student.balance} credits, ` +
      `${s.student.upcoming} upcoming and ${s.student.past} past lessons. Log in with a code from ${stack.emulatorUrl}/inbox.`,
  );
} catch (err) {
  console.error(`Seed failed: ${(err as Error).message}`);
  process.exit(1);
}
