/**
 * Agora App Builder: `POST {AGORA_APP_BUILDER_URL}/v1/channel` `{ title, enable_pstn: false }` with
 * `X-API-KEY` and `X-Project-ID` answers `{ channel, host_pass_phrase, viewer_pass_phrase }`.
 */
import { z } from "zod";
import type { Config } from "../config";
import { ProviderError } from "./errors";

const channelResponse = z.object({
  channel: z.string().min(1),
  host_pass_phrase: z.string().min(1),
  viewer_pass_phrase: z.string().min(1),
});
export type AgoraChannel = z.infer<typeof channelResponse>;

export function agoraConfigured(config: Config): boolean {
  return Boolean(config.AGORA_APP_BUILDER_URL && config.AGORA_API_KEY && config.AGORA_PROJECT_ID);
}

export async function createChannel(config: Config, title: string): Promise<AgoraChannel> {
  if (!config.AGORA_APP_BUILDER_URL || !config.AGORA_API_KEY || !config.AGORA_PROJECT_ID) {
    throw new ProviderError("agora", "not configured", false);
  }
  let res: Response;
  try {
    res = await fetch(`${config.AGORA_APP_BUILDER_URL.replace(/\/+$/, "")}/v1/channel`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-API-KEY": config.AGORA_API_KEY,
        "X-Project-ID": config.AGORA_PROJECT_ID,
      },
      body: JSON.stringify({ title, enable_pstn: false }),
    });
  } catch (err) {
    throw new ProviderError("agora", `network error: ${(err as Error).message}`, true);
  }
  if (!res.ok) {
    throw new ProviderError(
      "agora",
      `HTTP ${res.status}`,
      res.status >= 500 || res.status === 429 || res.status === 408,
      res.status,
    );
  }
  const parsed = channelResponse.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new ProviderError("agora", "unexpected response shape", true);
  return parsed.data;
}
