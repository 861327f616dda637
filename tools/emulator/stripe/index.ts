/** Stripe: its API routes, its hosted pages and its control routes, for `server.ts` to compose. */
import type { Call } from "../http.ts";
import { rid, type State } from "../state.ts";
import { injectedStripeFailure, stripeAuthProblem, stripeError } from "./api.ts";
import { checkoutSessions, expireOverdueSessions } from "./checkout.ts";
import { connectAccounts } from "./connect.ts";
import { hostedConnect } from "./connect-hosted.ts";
import { stripeControl } from "./control.ts";
import { disputes } from "./disputes.ts";
import { hostedCheckout } from "./hosted.ts";
import { paymentObjects } from "./payments.ts";
import { refunds } from "./refunds.ts";
import { transfers } from "./transfers.ts";

/** The API paths the emulator answers as Stripe (other `/v1/` paths belong to other providers). */
const STRIPE_PATHS =
  /^\/v1\/(checkout\/sessions|refunds|payment_intents|charges|disputes|accounts|account_links|transfers)(\/|$)/;

export function stripe(state: State) {
  expireOverdueSessions(state);
  return {
    pages: async (call: Call) =>
      (await stripeControl(state, call)) || (await hostedCheckout(state, call)) || hostedConnect(state, call),
    api: async (call: Call): Promise<boolean> => {
      if (!STRIPE_PATHS.test(call.path)) return false;
      // every Stripe answer names its request (the SDK exposes it as `requestId`) and echoes the key
      call.res.setHeader("request-id", rid("req"));
      const key = call.headers["idempotency-key"];
      if (key) call.res.setHeader("idempotency-key", key);
      // an injected outage answers before anything else, as an unreachable Stripe would
      if (injectedStripeFailure(state, call)) return true;
      const authProblem = stripeAuthProblem(call.headers);
      if (authProblem) {
        state.log.loud("stripe", call, authProblem);
        return stripeError(call.res, 401, authProblem);
      }
      if (await checkoutSessions(state, call)) return true;
      if (refunds(state, call) || paymentObjects(state, call) || disputes(state, call)) return true;
      if (connectAccounts(state, call) || transfers(state, call)) return true;
      state.log.loud("stripe", call, "unrecognized request URL");
      return stripeError(call.res, 404, `Unrecognized request URL (${call.method}: ${call.path}).`);
    },
  };
}
