/**
 * Provider emulator: Stripe, Resend, Deepgram, OpenAI and Agora App Builder at their HTTP
 * boundary, speaking the wire formats the project's adapters and the official SDKs use, and webhook
 * receivers for the platform's own outgoing webhooks (`/hooks/:name`). One
 * implementation serves `npm run dev:offline`, the e2e suite and (as `test/fakes/provider-server.ts`)
 * the Workers unit tests. Each provider lives in its own module (see README.md); this file only
 * composes them into one HTTP server.
 *
 * Every malformed call is answered like the real provider would and reported loudly on stderr.
 * Tests steer it through `/__control/*`: recorded requests, injected failures, sent events.
 */
import { createServer, type Server } from "node:http";
import { agora, meet } from "./agora.ts";
import { control, injectedFailure, record } from "./control.ts";
import { deepgram } from "./deepgram/listen.ts";
import { hooks, hooksControl, hooksPages, keepInjected, releaseHooks } from "./hooks.ts";
import { type Call, html, type Route, readCall, send } from "./http.ts";
import { openai } from "./openai/responses.ts";
import { indexPage } from "./pages.ts";
import { inbox, resend } from "./resend.ts";
import { createState, type EmulatorOptions, type State } from "./state.ts";
import { stripe } from "./stripe/index.ts";

export { signStripePayload } from "../common/stripe-signature.ts";
export { REPORT_HINTS } from "./openai/responses.ts";
export type { EmulatorOptions, Recorded } from "./state.ts";

export interface Emulator {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

function home(state: State, { method, path, res }: Call): boolean {
  if (method === "GET" && path === "/") return html(res, 200, indexPage({ apiUrl: state.apiUrl, base: state.base }));
  if (path === "/favicon.ico") return send(res, 404, {});
  return false;
}

export function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? "127.0.0.1";
  const state = createState(opts);
  const stripeRoutes = stripe(state);
  const bind =
    (route: (state: State, call: Call) => boolean | Promise<boolean>): Route =>
    (call) =>
      route(state, call);

  // control routes and pages: not provider calls, so neither recorded nor subject to injected failures
  const pages: Route[] = [
    bind(control),
    bind(hooksControl),
    bind(home),
    bind(inbox),
    stripeRoutes.pages,
    bind(meet),
    bind(hooksPages),
  ];
  const providers: Route[] = [bind(resend), stripeRoutes.api, bind(agora), bind(deepgram), bind(openai), bind(hooks)];

  const handle = async (call: Call) => {
    for (const route of pages) if (await route(call)) return;
    record(state, call);
    if (injectedFailure(state, call)) return keepInjected(state, call);
    for (const route of providers) if (await route(call)) return;
    state.log.loud("emulator", call, "no such route");
    send(call.res, 404, { error: `emulator: no route ${call.method} ${call.path}` });
  };

  const server = createServer((req, res) => {
    readCall(req, res)
      .then(handle)
      .catch((err) => {
        console.error(`[emulator] internal error on ${req.method} ${req.url}:`, err);
        if (!res.headersSent) send(res, 500, { error: String(err) });
      });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
      if (!state.base) state.base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      resolve({
        server,
        port,
        url: state.base,
        close: () =>
          new Promise<void>((done) => {
            state.stopTimers();
            releaseHooks(state);
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
