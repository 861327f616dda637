/**
 * Fakes of the providers at the HTTP boundary, in Node, for the Workers tests. They speak the real
 * wire formats the official SDKs use (Stripe form-encoded Checkout Sessions, Resend /emails, Agora
 * App Builder /v1/channel) and record every request. Tests steer them through `/__control/*`:
 * read recorded requests, and queue failures for requests whose body contains a marker.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  at: number;
}

interface Failure {
  path: string;
  match?: string;
  status: number;
  body?: unknown;
  times: number;
}

const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;

export function startProviderServer(port = 0): Promise<{ server: Server; port: number }> {
  const recorded: Recorded[] = [];
  let failures: Failure[] = [];
  const idempotency = new Map<string, unknown>();

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname;

    if (path === "/__control/requests") {
      const filter = url.searchParams.get("path");
      const contains = url.searchParams.get("contains");
      return send(
        res,
        200,
        recorded.filter(
          (r) =>
            (!filter || r.path === filter) && (!contains || r.body.includes(contains) || r.path.includes(contains)),
        ),
      );
    }
    if (path === "/__control/fail" && req.method === "POST") {
      failures.push(JSON.parse(body) as Failure);
      return send(res, 200, { ok: true });
    }
    if (path === "/__control/clear-failures" && req.method === "POST") {
      failures = [];
      return send(res, 200, { ok: true });
    }

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(",") : String(v ?? "");
    recorded.push({
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      at: Date.now(),
    });

    const failure = failures.find((f) => f.times > 0 && f.path === path && (!f.match || body.includes(f.match)));
    if (failure) {
      failure.times -= 1;
      const message = `injected ${failure.status}`;
      const shaped =
        path === "/emails"
          ? { name: "application_error", message, statusCode: failure.status }
          : { error: { type: "api_error", message } };
      return send(res, failure.status, failure.body ?? shaped);
    }

    // Resend: POST /emails
    if (path === "/emails" && req.method === "POST") {
      if (!headers.authorization?.startsWith("Bearer "))
        return send(res, 401, { name: "missing_api_key", message: "Missing API key", statusCode: 401 });
      const key = headers["idempotency-key"];
      if (key && idempotency.has(`resend:${key}`)) return send(res, 200, idempotency.get(`resend:${key}`));
      const parsed = JSON.parse(body) as { from?: string; to?: string[]; subject?: string };
      if (!parsed.from || !parsed.to || !parsed.subject) {
        return send(res, 422, { name: "validation_error", message: "Missing required field", statusCode: 422 });
      }
      const out = { id: rid("email") };
      if (key) idempotency.set(`resend:${key}`, out);
      return send(res, 200, out);
    }

    // Stripe: POST /v1/checkout/sessions (form-encoded, Bearer secret key, Idempotency-Key)
    if (path === "/v1/checkout/sessions" && req.method === "POST") {
      if (!headers.authorization?.startsWith("Bearer sk_")) {
        return send(res, 401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
      }
      if (!headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
        return send(res, 400, { error: { type: "invalid_request_error", message: "form body expected" } });
      }
      const key = headers["idempotency-key"];
      if (key && idempotency.has(`stripe:${key}`)) return send(res, 200, idempotency.get(`stripe:${key}`));
      const form = new URLSearchParams(body);
      if (!form.get("mode") || !form.get("success_url") || !form.get("line_items[0][price_data][unit_amount]")) {
        return send(res, 400, { error: { type: "invalid_request_error", message: "Missing required param" } });
      }
      const id = `cs_test_${randomBytes(16).toString("hex")}`;
      const session = {
        id,
        object: "checkout.session",
        mode: form.get("mode"),
        status: "open",
        payment_status: "unpaid",
        client_reference_id: form.get("client_reference_id"),
        metadata: { orderId: form.get("metadata[orderId]"), userId: form.get("metadata[userId]") },
        amount_total:
          Number(form.get("line_items[0][price_data][unit_amount]")) * Number(form.get("line_items[0][quantity]") ?? 1),
        currency: form.get("line_items[0][price_data][currency]"),
        expires_at: Number(form.get("expires_at") ?? 0),
        url: `https://checkout.stripe.test/c/pay/${id}`,
        payment_intent: null,
      };
      if (key) idempotency.set(`stripe:${key}`, session);
      return send(res, 200, session);
    }

    // Agora App Builder: POST /v1/channel
    if (path === "/v1/channel" && req.method === "POST") {
      if (!headers["x-api-key"] || !headers["x-project-id"]) return send(res, 401, { error: "missing credentials" });
      const parsed = JSON.parse(body) as { title?: string };
      if (!parsed.title) return send(res, 400, { error: "title required" });
      return send(res, 200, {
        channel: rid("ch"),
        title: parsed.title,
        host_pass_phrase: randomBytes(8).toString("hex"),
        viewer_pass_phrase: randomBytes(8).toString("hex"),
      });
    }

    // Deepgram: POST /v1/listen (raw audio body, Authorization: Token <key>, callback in the query)
    if (path === "/v1/listen" && req.method === "POST") {
      if (!headers.authorization?.startsWith("Token ")) {
        return send(res, 401, { err_code: "INVALID_AUTH", err_msg: "Invalid credentials.", request_id: rid("dg") });
      }
      if (body.length === 0) {
        return send(res, 400, { err_code: "Bad Request", err_msg: "No audio was provided.", request_id: rid("dg") });
      }
      if (!url.searchParams.get("callback")) {
        return send(res, 400, { err_code: "Bad Request", err_msg: "callback required here", request_id: rid("dg") });
      }
      return send(res, 200, { request_id: randomUUID() });
    }

    // OpenAI: POST /v1/chat/completions with response_format json_schema (strict)
    if (path === "/v1/chat/completions" && req.method === "POST") {
      if (!headers.authorization?.startsWith("Bearer ")) {
        return send(res, 401, { error: { type: "invalid_request_error", message: "Missing API key" } });
      }
      const parsed = JSON.parse(body) as {
        model?: string;
        messages?: { role: string; content: string }[];
        response_format?: { type?: string; json_schema?: { name?: string; strict?: boolean; schema?: unknown } };
      };
      const rf = parsed.response_format;
      if (!parsed.model || !parsed.messages?.length || rf?.type !== "json_schema" || !rf.json_schema?.schema) {
        return send(res, 400, {
          error: { type: "invalid_request_error", message: "json_schema response_format expected" },
        });
      }
      const content = JSON.stringify({
        summary: "We practised solving quadratic equations by factoring and with the formula.",
        topicsCovered: ["quadratic equations", "factoring"],
        nextSteps: ["practise completing the square"],
      });
      return send(res, 200, {
        id: rid("chatcmpl"),
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: parsed.model,
        choices: [
          { index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 40, total_tokens: 140 },
      });
    }

    return send(res, 404, { error: `fake: no route ${req.method} ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: String(err) }));
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : port });
    });
  });
}
