/** Stripe: its API routes (`/v1/checkout/sessions…`) and its hosted pages, for `server.ts` to compose. */
import type { Call } from "../http.ts";
import type { State } from "../state.ts";
import { stripeAuthProblem, stripeError } from "./api.ts";
import { checkoutSessions, expireOverdueSessions } from "./checkout.ts";
import { hostedCheckout } from "./hosted.ts";

export function stripe(state: State) {
  expireOverdueSessions(state);
  return {
    pages: (call: Call) => hostedCheckout(state, call),
    api: async (call: Call): Promise<boolean> => {
      if (!call.path.startsWith("/v1/checkout/sessions")) return false;
      const authProblem = stripeAuthProblem(call.headers);
      if (authProblem) {
        state.log.loud("stripe", call, authProblem);
        return stripeError(call.res, 401, authProblem);
      }
      if (await checkoutSessions(state, call)) return true;
      state.log.loud("stripe", call, "unrecognized request URL");
      return stripeError(call.res, 404, `Unrecognized request URL (${call.method}: ${call.path}).`);
    },
  };
}
