/** The demo's steps call the API as an integrator would: through the typed SDK, as one user. */
import { createClient, type TutorloopClient } from "../sdk/src/index.ts";
import type { Client, Tokens } from "../tools/offline/client.ts";

export const sdkAs = (c: Client, who?: Tokens): TutorloopClient =>
  createClient({ baseUrl: c.apiUrl, getToken: () => who?.accessToken });
