/**
 * OpenAI: `POST /v1/chat/completions` and `POST /v1/responses` answer with JSON conforming to the
 * requested `json_schema` (checked like strict mode does), or a fixed sentence for plain text.
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Call, hasAuth, jsonOf, send } from "../http.ts";
import { type State, unixSeconds } from "../state.ts";
import { generate, type Hints, type Schema, strictSchemaProblems } from "./json-schema.ts";

/** Lesson-report fields, so generated structured outputs read like a real report. */
export const REPORT_HINTS: Hints = {
  summary: "We practised solving quadratic equations by factoring and with the formula.",
  topicsCovered: ["quadratic equations", "factoring"],
  nextSteps: ["practise completing the square"],
};

/**
 * A regeneration's prompt carries the tutor's instructions in a delimited section: the answer then
 * differs (its summary quotes them), so a test can see that they reached the model.
 */
export function reportHintsFor(prompt: string): Hints {
  // the section itself: the tag on a line of its own (the system message may name the tags in prose)
  const sections = [...prompt.matchAll(/^<tutor_instructions>\n([\s\S]*?)\n<\/tutor_instructions>$/gm)];
  const instructions = sections.at(-1)?.[1]?.trim();
  if (!instructions) return REPORT_HINTS;
  return {
    ...REPORT_HINTS,
    summary: `${REPORT_HINTS.summary} Revised as the tutor asked: ${instructions.slice(0, 500)}`,
    nextSteps: ["practise completing the square", "review the tutor's notes"],
  };
}

const openaiError = (
  res: ServerResponse,
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
) => send(res, status, { error: { message, type: "invalid_request_error", param, code } });

type Format = { type?: string; name?: string; strict?: boolean; schema?: unknown; json_schema?: Format };

/** Checks a structured-output format; returns the content generator or an error message. */
function formatOf(
  f: Format | undefined,
  where: string,
  text: string,
): { ok: true; content: () => string } | { ok: false; message: string; param: string } {
  if (!f || f.type === undefined || f.type === "text") {
    return { ok: true, content: () => "This is an emulated answer: the provider emulator does not run a model." };
  }
  if (f.type === "json_object") {
    if (!/json/i.test(text)) {
      return {
        ok: false,
        message: `'messages' must contain the word 'json' in some form, to use '${where}' of type 'json_object'.`,
        param: "messages",
      };
    }
    return { ok: true, content: () => JSON.stringify({ answer: "emulated" }) };
  }
  if (f.type !== "json_schema") {
    return {
      ok: false,
      message: `Invalid value: '${f.type}'. Supported values are: 'json_object', 'json_schema', and 'text'.`,
      param: `${where}.type`,
    };
  }
  const spec = where === "response_format" ? f.json_schema : f;
  if (!spec)
    return {
      ok: false,
      message: `Missing required parameter: '${where}.json_schema'.`,
      param: `${where}.json_schema`,
    };
  if (typeof spec.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
    return {
      ok: false,
      message: `Invalid '${where}.name': string must match pattern '^[a-zA-Z0-9_-]+$' (max 64).`,
      param: `${where}.name`,
    };
  }
  if (typeof spec.schema !== "object" || spec.schema === null) {
    return { ok: false, message: `Missing required parameter: '${where}.schema'.`, param: `${where}.schema` };
  }
  if (spec.strict) {
    const problems = strictSchemaProblems(spec.schema);
    if (problems.length > 0) {
      return {
        ok: false,
        message: `Invalid schema for response_format '${spec.name}': In context=(), ${problems.join("; ")}.`,
        param: where,
      };
    }
  }
  const schema = spec.schema as Schema;
  return { ok: true, content: () => JSON.stringify(generate(schema, reportHintsFor(text))) };
}

const textOfMessages = (messages: unknown[]): string =>
  messages
    .map((m) => {
      const c = (m as { content?: unknown }).content;
      return typeof c === "string" ? c : JSON.stringify(c ?? "");
    })
    .join("\n");

/** `POST /v1/chat/completions`, `POST /v1/responses`. */
export function openai(state: State, call: Call): boolean {
  const { path, method, headers, body, res } = call;
  if ((path !== "/v1/chat/completions" && path !== "/v1/responses") || method !== "POST") return false;
  const fail = (status: number, message: string, param: string | null = null, code: string | null = null) => {
    state.log.loud("openai", call, message);
    return openaiError(res, status, message, param, code);
  };
  if (!hasAuth(headers, "Bearer")) {
    return fail(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  }
  const parsed = jsonOf(body) as Record<string, unknown> | undefined;
  if (parsed === undefined) {
    return fail(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
    );
  }
  if (typeof parsed.model !== "string" || !parsed.model)
    return fail(400, "you must provide a model parameter", "model");
  const created = unixSeconds();
  if (path === "/v1/chat/completions") {
    const messages = parsed.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return fail(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
    }
    for (const [i, m] of messages.entries()) {
      const role = (m as { role?: unknown }).role;
      if (!["system", "developer", "user", "assistant", "tool"].includes(String(role))) {
        return fail(
          400,
          `Invalid value: '${role}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.`,
          `messages[${i}].role`,
          "invalid_value",
        );
      }
      const content = (m as { content?: unknown }).content;
      if (role !== "assistant" && typeof content !== "string" && !Array.isArray(content)) {
        return fail(
          400,
          `Missing required parameter: 'messages[${i}].content'.`,
          `messages[${i}].content`,
          "missing_required_parameter",
        );
      }
    }
    const format = formatOf(parsed.response_format as Format | undefined, "response_format", textOfMessages(messages));
    if (!format.ok) return fail(400, format.message, format.param);
    const content = format.content();
    return send(res, 200, {
      id: `chatcmpl-${randomBytes(12).toString("hex")}`,
      object: "chat.completion",
      created,
      model: parsed.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: Math.ceil(body.length / 4),
        completion_tokens: Math.ceil(content.length / 4),
        total_tokens: Math.ceil((body.length + content.length) / 4),
      },
      system_fingerprint: "fp_emulator",
    });
  }
  const input = parsed.input;
  if (typeof input !== "string" && !Array.isArray(input))
    return fail(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
  const format = formatOf(
    (parsed.text as { format?: Format } | undefined)?.format,
    "text.format",
    `${typeof parsed.instructions === "string" ? parsed.instructions : ""}\n${typeof input === "string" ? input : textOfMessages(input)}`,
  );
  if (!format.ok) return fail(400, format.message, format.param);
  const text = format.content();
  return send(res, 200, {
    id: `resp_${randomBytes(12).toString("hex")}`,
    object: "response",
    created_at: created,
    status: "completed",
    error: null,
    incomplete_details: null,
    model: parsed.model,
    output: [
      {
        type: "message",
        id: `msg_${randomBytes(12).toString("hex")}`,
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text, annotations: [] }],
      },
    ],
    output_text: text,
    usage: {
      input_tokens: Math.ceil(body.length / 4),
      output_tokens: Math.ceil(text.length / 4),
      total_tokens: Math.ceil((body.length + text.length) / 4),
    },
  });
}
