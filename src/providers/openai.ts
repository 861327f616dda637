/**
 * OpenAI structured outputs through the official SDK: `response_format` of type `json_schema`
 * (strict), the schema generated from a zod schema, the answer parsed and checked against it.
 * Failures are provider errors: 5xx / 429 / network → ProviderError(transient), the queue retries; a
 * refusal, a truncated or filtered answer, an answer not matching the schema or a 4xx → OpenAIRefusal,
 * whose message is safe to store and show (the provider's own text only goes to the log).
 */
import OpenAI from "openai";
import { z } from "zod";
import type { Config } from "../config";
import { ProviderError } from "./errors";

export class OpenAIRefusal extends Error {
  override name = "OpenAIRefusal";
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "draft-7" }) as Record<string, unknown>;
  return rest;
}

export type ChatMessage = { role: "system" | "user"; content: string };

export async function structuredOutput<T>(
  config: Config,
  input: { name: string; schema: z.ZodType<T>; messages: ChatMessage[] },
): Promise<T> {
  if (!config.OPENAI_API_KEY) throw new OpenAIRefusal("OpenAI is not configured (OPENAI_API_KEY is unset)");
  const client = new OpenAI({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, maxRetries: 0 });
  let completion: OpenAI.Chat.Completions.ChatCompletion;
  try {
    completion = await client.chat.completions.create({
      model: config.OPENAI_MODEL,
      messages: input.messages,
      response_format: {
        type: "json_schema",
        json_schema: { name: input.name, strict: true, schema: jsonSchemaOf(input.schema) },
      },
    });
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) {
      const transient = err.status >= 500 || err.status === 429 || err.status === 408 || err.status === 409;
      if (transient) throw new ProviderError("openai", `HTTP ${err.status}`, true, err.status);
      // the provider's message can echo (masked) credentials: it goes to the log, not to the row
      console.log(
        JSON.stringify({
          level: "error",
          msg: "openai request refused",
          status: err.status,
          error: err.message.slice(0, 500),
        }),
      );
      throw new OpenAIRefusal(`OpenAI refused the request (HTTP ${err.status})`);
    }
    throw new ProviderError("openai", `network error: ${(err as Error).message}`, true);
  }
  const choice = completion.choices[0];
  if (!choice) throw new OpenAIRefusal("OpenAI returned no choice");
  if (choice.message.refusal) throw new OpenAIRefusal(`The model refused: ${choice.message.refusal.slice(0, 300)}`);
  if (choice.finish_reason === "length")
    throw new OpenAIRefusal("The model's answer was cut off (finish_reason length)");
  if (choice.finish_reason === "content_filter") throw new OpenAIRefusal("The model's answer was filtered");
  let parsed: unknown;
  try {
    parsed = JSON.parse(choice.message.content ?? "");
  } catch {
    throw new OpenAIRefusal("The model's answer is not JSON");
  }
  const result = input.schema.safeParse(parsed);
  if (!result.success) throw new OpenAIRefusal("The model's answer does not match the requested schema");
  return result.data;
}
