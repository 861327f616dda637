/** Mirrors STRIPE_WEBHOOK_SECRET of vitest.config.ts (the Workers tests cannot import the Node config). */
export const TEST_STRIPE_WEBHOOK_SECRET_VALUE = "whsec_test_secret";
/** Mirrors STRIPE_CONNECT_WEBHOOK_SECRET of vitest.config.ts. */
export const TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE = "whsec_test_connect_secret";
