/**
 * The providers at the HTTP boundary for the Workers tests: the repo's provider emulator
 * (`tools/emulator/`), with Deepgram callbacks and audio sniffing off (the tests post callbacks
 * themselves and upload marker bytes). Tests steer it through `/__control/*`: read recorded requests,
 * and queue failures for requests whose body contains a marker.
 */
import type { Server } from "node:http";
import { startEmulator } from "../../tools/emulator/server.ts";

export type { Recorded } from "../../tools/emulator/server.ts";

export async function startProviderServer(port = 0): Promise<{ server: Server; port: number }> {
  const emulator = await startEmulator({ port, deepgramCallbacks: false, sniffAudio: false, log: "errors" });
  return { server: emulator.server, port: emulator.port };
}
