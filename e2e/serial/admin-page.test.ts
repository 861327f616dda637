/**
 * The back office in a real browser (headless Chromium, playwright-core), black box: an admin signs
 * in with a code from the emulator's inbox, approves a pending tutor, finds a student by e-mail,
 * adjusts their credits, refunds their order to the card, resolves their disputed lesson, adds a
 * webhook endpoint for the emulator's receiver (its secret shown once, then rotated), follows its
 * deliveries (retrying a refused one), disables, enables and deletes it, and sees each action in
 * the audit log; every page is also checked by axe-core. Screenshots of every page and confirm
 * dialog land in e2e/artifacts/admin/ (gitignored).
 *
 * Serial: the refund goes through the emulated Stripe, where e2e/money.test.ts queues a refusal of
 * the next refund for anyone; the queues it walks (pending tutors, disputed sessions) are shared; and
 * its webhook endpoint would receive the events of tests running beside it.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { PAST_LESSONS } from "../../tools/offline/demo-data.ts";
import {
  ARTIFACTS,
  type AxeFinding,
  assertStrictScriptCsp,
  axeSerious,
  launchChromium,
  watchPage,
} from "../browser.ts";
import {
  adminEmail,
  balance,
  book,
  c,
  email,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  poll,
  rand,
  type Student,
  start,
  type Tokens,
} from "../helpers.ts";

const ADMIN = adminEmail("admin");
/** The seed's past lesson with a lesson report (the e2e stack runs the demo seed). */
const SEEDED_REPORTED = PAST_LESSONS[0]?.id as string;
const SHOTS = new URL("admin/", ARTIFACTS);

interface Order {
  id: string;
  status: string;
  paymentIntentId: string | null;
  totalCredits: number;
  refundedCents: number;
  reversedCredits: number;
}
interface SessionView {
  id: string;
  status: string;
  settlementStatus: string;
  refundedCredits: number;
}
interface Endpoint {
  id: string;
  url: string;
  enabled: boolean;
  secret?: string;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  attempts: number;
  status: string;
  lastStatusCode: number | null;
}
interface HookDelivery {
  type: string | null;
  status: number | null;
  verified: boolean | null;
}
interface AuditRow {
  action: string;
  actorUserId: string;
  targetId: string;
}

const ordersOf = async (s: Student) =>
  (await c.ok<{ items: Order[] }>("/v1/credits/orders?limit=100", { token: s.token })).items;

/** A student who paid for pack_5 (5 credits, 50 usd) through the emulated hosted checkout. */
async function paidOrder(s: Student): Promise<Order> {
  const co = await c.ok<{ orderId: string; checkoutUrl: string }>(
    "/v1/credits/checkout",
    { token: s.token, body: { packId: "pack_5" } },
    201,
  );
  assert.equal((await c.checkoutAction(co.checkoutUrl, "pay")).status, 200);
  return poll("the completed order", 20_000, async () =>
    (await ordersOf(s)).find((o) => o.id === co.orderId && o.status === "completed"),
  );
}

/** A new tutor profile nobody has approved yet. */
async function pendingTutor(subjectId: string) {
  const tokens = await c.login(email("applicant"));
  const displayName = `Applicant ${rand()}`;
  const profile = await c.ok<{ id: string; status: string }>(
    "/v1/me/tutor-profile",
    {
      token: tokens.accessToken,
      body: { displayName, bio: "Wants to teach.", subjectIds: [subjectId], hourlyCreditsPrice: 2 },
    },
    201,
  );
  assert.equal(profile.status, "pending");
  return { id: profile.id, displayName };
}

describe("back office in a browser", () => {
  let admin: Tokens;
  let student: Student;
  let order: Order;
  let applicant: { id: string; displayName: string };
  let sessionId: string;

  before(async () => {
    admin = await c.login(ADMIN);
    const subject = await newSubject(admin);
    const [teacher, s, a] = await Promise.all([
      newTutor(admin, [subject.id], 2),
      newStudent(),
      pendingTutor(subject.id),
    ]);
    student = s;
    applicant = a;
    order = await paidOrder(student);
    // a completed lesson the student contests: booked at the next quarter, started, completed, disputed
    const booked = await book(student, teacher, subject.id, nextQuarter(), 60);
    assert.equal(booked.status, 201, booked.text);
    sessionId = booked.body.id;
    await start(teacher, sessionId);
    await c.ok(`/v1/sessions/${sessionId}/complete`, { method: "POST", token: teacher.token });
    const disputed = await c.ok<SessionView>(`/v1/sessions/${sessionId}/dispute`, {
      token: student.token,
      body: { reason: "The tutor's sound dropped for half the lesson." },
    });
    assert.equal(disputed.settlementStatus, "disputed");
    assert.equal(await balance(student), 3);
  });

  it("sign in → approve a tutor → find a student → adjust credits → refund an order → resolve a dispute → webhooks → audit log", async () => {
    const started = Date.now();
    const origin = new URL(c.apiUrl).origin;
    const head = await fetch(`${c.apiUrl}/admin/`);
    assert.equal(head.status, 200);
    assertStrictScriptCsp(head.headers.get("content-security-policy") ?? "", "/admin/");

    mkdirSync(SHOTS, { recursive: true });
    const shots: string[] = [];
    const findings: AxeFinding[] = [];
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ timezoneId: "Europe/Berlin", viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const watch = await watchPage(page, origin);
      const shot = async (name: string) => {
        const file = `${String(shots.length + 1).padStart(2, "0")}-${name}.png`;
        await page.screenshot({ path: new URL(file, SHOTS).pathname, fullPage: true });
        shots.push(file);
      };
      /** A page is done when its h1 is there and nothing is loading; then its screenshot and axe. */
      const rendered = async (name: string, h1: string | RegExp) => {
        await page.getByRole("heading", { level: 1, name: h1 }).waitFor();
        const loading = page.getByText(/^Loading .*…$/);
        await poll(`${name} to finish loading`, 15_000, async () => ((await loading.count()) === 0 ? true : undefined));
        await shot(name);
        findings.push(...(await axeSerious(page, name)));
      };
      const nav = (title: string) =>
        page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: title, exact: true });
      /** Opens a ConfirmAction's dialog, fills it, screenshots it, confirms, waits for the flash. */
      const confirm = async (
        scope: Page | Locator,
        label: string,
        name: string,
        fill: (d: Locator) => Promise<void>,
        flash: RegExp,
      ) => {
        await scope.getByRole("button", { name: label, exact: true }).click();
        const dialog = page.getByRole("dialog");
        await dialog.waitFor();
        await fill(dialog);
        await shot(`${name}-dialog`);
        findings.push(...(await axeSerious(page, `${name} dialog`)));
        await dialog.getByRole("button", { name: `Confirm: ${label}`, exact: true }).click();
        await page.getByRole("status").getByText(flash).waitFor();
        await dialog.waitFor({ state: "hidden" });
      };

      // sign in with a code from the emulator's inbox (only a mail that came after the request)
      const inbox = async () =>
        (
          await c.emulator<{ items: { id: string; text: string | null }[] }>(
            `/inbox.json?to=${encodeURIComponent(ADMIN)}`,
          )
        ).items;
      const seen = new Set((await inbox()).map((m) => m.id));
      const res = await page.goto(`${c.apiUrl}/admin`);
      assert.equal(res?.status(), 200);
      await rendered("sign-in", "tutorloop back office");
      await page.fill("input[name=email]", ADMIN);
      await page.getByRole("button", { name: "E-mail me a code" }).click();
      await page.locator("input[name=code]").waitFor();
      const mail = await poll("the admin's new code mail", 15_000, async () =>
        (await inbox()).find((m) => !seen.has(m.id) && /\b\d{6}\b/.test(m.text ?? "")),
      );
      await shot("code");
      await page.fill("input[name=code]", /\b(\d{6})\b/.exec(mail.text ?? "")?.[1] as string);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByText(ADMIN, { exact: true }).waitFor();
      await rendered("dashboard", "Dashboard");

      // Tutors: approve the pending applicant
      await nav("Tutors").click();
      await rendered("tutors", "Tutors");
      const row = page.getByRole("row").filter({ hasText: applicant.displayName });
      await confirm(row, "Approve", "tutor-approve", async () => {}, new RegExp(`${applicant.displayName} approved`));
      const approved = await c.ok<{ items: { id: string }[] }>("/v1/admin/tutors?status=approved&limit=100", {
        token: admin.accessToken,
      });
      assert.ok(
        approved.items.some((t) => t.id === applicant.id),
        "the applicant is approved",
      );

      // Users: find the student by e-mail, open them
      await nav("Users").click();
      await rendered("users", "Users");
      await page.getByLabel("E-mail address").fill(student.email);
      await page.getByRole("button", { name: "Find", exact: true }).click();
      await page.getByRole("link", { name: student.email, exact: true }).click();
      await rendered("user", student.email);

      // Adjust credits: +4
      await confirm(
        page,
        "Adjust credits",
        "adjust-credits",
        async (d) => {
          await d.getByLabel("Type").selectOption("credit");
          await d.getByLabel("Amount").fill("4");
          await d.getByLabel("Description").fill("Goodwill credits after the dropped lesson");
        },
        /Credited 4 credits/,
      );
      assert.equal(await balance(student), 7);

      // Orders: refund the whole order (the field defaults to what is refundable)
      const orderRow = page.getByRole("row").filter({ hasText: order.id });
      await confirm(
        orderRow,
        "Refund",
        "order-refund",
        async (d) => assert.equal(await d.getByLabel("Credits to refund").inputValue(), "5"),
        new RegExp(`Refunded 5 credits of order ${order.id}`),
      );
      const refunded = (await ordersOf(student)).find((o) => o.id === order.id);
      assert.equal(refunded?.reversedCredits, 5);
      assert.equal(refunded?.refundedCents, 5000);
      assert.equal(await balance(student), 2);
      await poll("Stripe's refund of the order", 20_000, async () => {
        const sent = await c.emulator<{ type: string; deliveries: { status?: number }[] }[]>(
          `/__control/events?paymentIntent=${order.paymentIntentId}`,
        );
        return sent.some((e) => e.type === "charge.refunded" && e.deliveries.some((d) => d.status === 200))
          ? true
          : undefined;
      });
      await rendered("user-after", student.email);

      // Sessions: the disputed ones, then this student's lesson
      await nav("Sessions").click();
      await rendered("sessions", "Sessions");
      await page.getByLabel("Settlement status").selectOption("disputed");
      await page.waitForURL(/settlementStatus=disputed/);
      const sessionRow = page.getByRole("row").filter({ has: page.locator(`a[href$="/sessions/${sessionId}"]`) });
      await sessionRow.waitFor();
      await rendered("sessions-disputed", "Sessions");
      await sessionRow.getByRole("link", { name: "Open", exact: true }).click();
      await rendered("session", /^Session /);
      await confirm(
        page,
        "Resolve dispute",
        "resolve-dispute",
        async (d) => {
          await d.getByLabel("Credits back to the student").fill("1");
          await d.getByLabel("Note").fill("Half the lesson had no sound: one credit back.");
        },
        /Resolved: 1 credit back to the student/,
      );
      const settled = await c.ok<SessionView>(`/v1/sessions/${sessionId}`, { token: student.token });
      assert.equal(settled.settlementStatus, "settled");
      assert.equal(settled.refundedCredits, 1);
      assert.equal(await balance(student), 3);

      // the seeded past lesson with a published report (and no recording: the seed writes rows)
      await page.goto(`${c.apiUrl}/admin/#/sessions/${SEEDED_REPORTED}`);
      await rendered("session-reported", /^Session /);
      await page.getByText(PAST_LESSONS[0]?.report?.summary as string).waitFor();

      // the read-only pages, for their screenshots and the accessibility pass
      for (const title of ["Recordings", "Payouts", "Dead letters"]) {
        await nav(title).click();
        await rendered(title.toLowerCase().replace(" ", "-"), title);
      }

      // Webhooks: an endpoint for the emulator's receiver (E2E_EMULATOR_URL; http://127.0.0.1 is allowed
      // outside production), its secret shown once; rotated, the old secret keeps signing beside the new
      await nav("Webhooks").click();
      await rendered("webhooks", "Webhooks");
      const hookUrl = `${c.emulatorUrl}/hooks/admin-walk`;
      const hook = (path = "", init?: RequestInit) => c.emulator(`/__control/hooks/admin-walk${path}`, init);
      const setHookSecret = (secret: string) =>
        hook("", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ secret }) });
      await confirm(
        page,
        "Add endpoint",
        "webhook-create",
        async (d) => {
          await d.getByLabel("URL").fill(hookUrl);
          await d.getByLabel("Description (optional)").fill("The admin walk's receiver");
          // "All events" stands for every type: the single types are off while it is ticked
          await d.getByLabel(/^All events/).check();
          assert.equal(await d.getByLabel("tutor.status_changed", { exact: true }).isDisabled(), true);
          await d.getByLabel(/^All events/).uncheck();
          await d.getByLabel("tutor.status_changed", { exact: true }).check();
          await d.getByLabel("session.booked", { exact: true }).check();
        },
        /Endpoint added/,
      );
      const secretBox = page.getByTestId("secret-once");
      await secretBox.getByText("Copy it now: it will not be shown again.").waitFor();
      const secret = await secretBox.getByLabel("Signing secret").inputValue();
      assert.match(secret, /^whsec_/);
      await rendered("webhooks-secret", "Webhooks");
      const endpoints = await c.ok<{ items: Endpoint[] }>("/v1/admin/webhook-endpoints?limit=100", {
        token: admin.accessToken,
      });
      const endpoint = endpoints.items.find((e) => e.url === hookUrl) as Endpoint;
      assert.ok(endpoint, `the endpoint is listed: ${JSON.stringify(endpoints.items)}`);
      assert.equal(endpoint.secret, undefined, "the list never carries the secret");
      await setHookSecret(secret);
      await secretBox.getByRole("button", { name: /^I have stored it/ }).click();
      await secretBox.waitFor({ state: "hidden" });
      const endpointRow = page.getByRole("row").filter({ hasText: hookUrl });
      await endpointRow.getByText("enabled", { exact: true }).waitFor();
      await endpointRow.getByRole("link", { name: hookUrl, exact: true }).click();
      await rendered("webhook", /^Webhook /);
      assert.equal(await page.getByTestId("secret-once").count(), 0, "the endpoint's page does not show the secret");
      await confirm(
        page,
        "Edit",
        "webhook-edit",
        async (d) => {
          assert.equal(await d.getByLabel("URL").inputValue(), hookUrl);
          await d.getByLabel("Description (optional)").fill("The admin walk's receiver (edited)");
        },
        /Endpoint saved/,
      );
      await page.getByText("The admin walk's receiver (edited)").waitFor();
      await confirm(page, "Rotate secret", "webhook-rotate", async () => {}, /Secret rotated/);
      await secretBox.getByText("Copy it now: it will not be shown again.").waitFor();
      const rotated = await secretBox.getByLabel("Signing secret").inputValue();
      assert.match(rotated, /^whsec_/);
      assert.notEqual(rotated, secret);
      await rendered("webhook-rotated", /^Webhook /);

      // an event for it (the tutor approved above is suspended): the receiver, still on the old
      // secret, verifies it; the delivery log shows it delivered
      await c.ok(`/v1/admin/tutors/${applicant.id}/status`, {
        token: admin.accessToken,
        body: { status: "suspended", reason: "Checking the webhook log." },
      });
      const deliveriesPath = `/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?limit=100`;
      const delivered = await poll("the tutor.status_changed delivery", 30_000, async () =>
        (await c.ok<{ items: Delivery[] }>(deliveriesPath, { token: admin.accessToken })).items.find(
          (d) => d.eventType === "tutor.status_changed" && d.status === "delivered",
        ),
      );
      assert.equal(delivered.lastStatusCode, 200);
      const received = (await hook("/deliveries?type=tutor.status_changed")) as HookDelivery[];
      assert.ok(
        received.some((d) => d.status === 200 && d.verified === true),
        `the receiver verified the delivery with the secret from before the rotation: ${JSON.stringify(received)}`,
      );
      const log = page.getByRole("region", { name: "Deliveries" });
      await log.getByRole("button", { name: "Reload", exact: true }).click();
      await log.getByRole("row").filter({ hasText: "tutor.status_changed" }).getByText("delivered").waitFor();
      await rendered("webhook-deliveries", /^Webhook /);

      // a receiver that refuses (a secret of its own): the delivery stays pending; after its second
      // attempt (5 s later) the next one is minutes away, so the admin retries it now
      await setHookSecret(`whsec_${Buffer.from("not the endpoint's own secret!!").toString("base64")}`);
      await c.ok(`/v1/admin/tutors/${applicant.id}/status`, { token: admin.accessToken, body: { status: "approved" } });
      const refused = await poll("the twice refused delivery", 30_000, async () =>
        (await c.ok<{ items: Delivery[] }>(deliveriesPath, { token: admin.accessToken })).items.find(
          (d) => d.status === "pending" && d.attempts >= 2 && d.lastStatusCode === 400,
        ),
      );
      await setHookSecret(rotated);
      await log.getByRole("button", { name: "Reload", exact: true }).click();
      const refusedRow = log.getByRole("row").filter({ hasText: refused.eventId });
      await refusedRow.getByText("pending", { exact: true }).waitFor();
      await rendered("webhook-refused", /^Webhook /);
      await confirm(
        refusedRow,
        "Retry",
        "webhook-retry",
        async () => {},
        /Retry of the tutor\.status_changed delivery started/,
      );
      await poll("the retried delivery", 30_000, async () => {
        const page1 = await c.ok<{ items: Delivery[] }>(deliveriesPath, { token: admin.accessToken });
        return page1.items.find((d) => d.id === refused.id && d.status === "delivered");
      });
      await log.getByRole("button", { name: "Reload", exact: true }).click();
      await refusedRow.getByText("delivered", { exact: true }).waitFor();

      // disabled: nothing is sent, the page says so; enabled again
      await confirm(page, "Disable", "webhook-disable", async () => {}, /Endpoint disabled/);
      await page.getByText("This endpoint is disabled: no event is sent to it.").waitFor();
      await rendered("webhook-disabled", /^Webhook /);
      await confirm(page, "Enable", "webhook-enable", async () => {}, /Endpoint enabled/);
      await page.getByRole("button", { name: "Disable", exact: true }).waitFor();
      const after = await c.ok<Endpoint>(`/v1/admin/webhook-endpoints/${endpoint.id}`, { token: admin.accessToken });
      assert.equal(after.enabled, true);
      await rendered("webhook-enabled", /^Webhook /);
      // deleted: back on the list, which says so; the API no longer knows it
      await confirm(page, "Delete", "webhook-delete", async () => {}, /deleted: no more events are sent to it/);
      await page.waitForURL(/#\/webhooks$/);
      await rendered("webhooks-deleted", "Webhooks");
      assert.equal(await page.getByRole("row").filter({ hasText: hookUrl }).count(), 0);
      const gone = await c.call(`/v1/admin/webhook-endpoints/${endpoint.id}`, { token: admin.accessToken });
      assert.equal(gone.status, 404);

      // Audit log: this admin's actions, filtered by actor id
      await nav("Audit log").click();
      await rendered("audit-log", "Audit log");
      await page.getByLabel("Actor id").fill(admin.user.id);
      await page.getByRole("button", { name: "Filter", exact: true }).click();
      await page.waitForURL(new RegExp(`actorId=${admin.user.id}`));
      const expected = [
        ["tutor.status", applicant.id],
        ["credits.adjust", student.userId],
        ["order.refund", order.id],
        ["session.resolve", sessionId],
        ["webhook_endpoint.create", endpoint.id],
        ["webhook_endpoint.update", endpoint.id],
        ["webhook_endpoint.rotate_secret", endpoint.id],
        ["webhook_endpoint.delete", endpoint.id],
        ["webhook_delivery.retry", refused.id],
      ] as const;
      const logged = await c.ok<{ items: AuditRow[] }>(`/v1/admin/audit-log?actorId=${admin.user.id}&limit=100`, {
        token: admin.accessToken,
      });
      for (const [action, target] of expected) {
        assert.ok(
          logged.items.some((r) => r.action === action && r.targetId === target && r.actorUserId === admin.user.id),
          `the audit log has ${action} on ${target}: ${JSON.stringify(logged.items)}`,
        );
        await page
          .getByRole("row")
          .filter({ has: page.locator("code", { hasText: new RegExp(`^${action.replace(".", "\\.")}$`) }) })
          .filter({ hasText: target })
          .first()
          .waitFor();
      }
      const actors = await page.locator("tbody tr").allInnerTexts();
      assert.ok(actors.length >= 4, `${actors.length} audit rows shown`);
      assert.ok(
        actors.every((r) => r.includes(admin.user.id)),
        "the filtered audit log shows only this admin's actions",
      );
      await rendered("audit-log-filtered", "Audit log");

      console.log(
        `admin page walk: ${shots.length} screenshots in ${SHOTS.pathname} (${shots.join(", ")}), ` +
          `${watch.blocked.length} outside requests blocked, ${Date.now() - started} ms`,
      );
      // one failure lists everything: outside requests, errors and answers ≥ 400, accessibility
      const all = [
        ...watch.blocked.map((u) => `blocked (outside the API's origin): ${u}`),
        ...watch.problems,
        ...findings.map((f) => `axe on ${f.page}: ${f.id} (${f.impact}) ${f.help} — ${f.targets.join(" | ")}`),
      ];
      assert.deepEqual(all, [], `the back office had problems:\n${all.join("\n")}`);
    } finally {
      await browser.close();
    }
  });
});
