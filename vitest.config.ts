import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123456789";
export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_test_secret";
/** The Connect endpoint's own secret: a different value, so the tests prove both verify. */
export const TEST_STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_test_connect_secret";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest(({ inject }) => {
        const fake = `http://127.0.0.1:${inject<number>("fakePort")}`;
        return {
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            bindings: {
              TEST_MIGRATIONS: migrations,
              FAKE_PROVIDERS_URL: fake,
              ENVIRONMENT: "test",
              // The suite books, logs in and uploads from one client far faster than anyone could;
              // test/http/rate-limit.test.ts runs the Worker with RATE_LIMITS=on and these bindings.
              RATE_LIMITS: "off",
              // Tutors the suite creates are bookable at once; test/tutors/approval.test.ts calls the
              // Worker with the default (true) and walks the approval itself, as e2e does everywhere.
              TUTOR_APPROVAL_REQUIRED: "false",
              PUBLIC_API_URL: "http://api.test",
              JWT_SECRET: TEST_JWT_SECRET,
              ADMIN_EMAILS: "root@admin.test",
              STRIPE_SECRET_KEY: "sk_test_fake",
              STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
              STRIPE_CONNECT_WEBHOOK_SECRET: TEST_STRIPE_CONNECT_WEBHOOK_SECRET,
              STRIPE_API_BASE: fake,
              RESEND_API_KEY: "re_test_fake",
              RESEND_API_URL: fake,
              DEEPGRAM_API_KEY: "dg_test_fake",
              DEEPGRAM_API_URL: fake,
              OPENAI_API_KEY: "sk-test-fake",
              OPENAI_BASE_URL: `${fake}/v1`,
              AGORA_APP_BUILDER_URL: fake,
              AGORA_API_KEY: "agora_test_key",
              AGORA_PROJECT_ID: "agora_project",
              SESSIONS_APP_URL: "https://meet.test",
              CREDIT_PACKS: JSON.stringify([
                { id: "pack_5", credits: 5, priceCents: 5000, currency: "usd" },
                { id: "pack_20", credits: 20, priceCents: 18000, currency: "usd" },
              ]),
            },
          },
        };
      }),
    ],
    test: {
      globalSetup: ["./test/global-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 30_000,
      silent: "passed-only" as const,
      hookTimeout: 30_000,
      include: ["test/**/*.test.ts"],
    },
  };
});
