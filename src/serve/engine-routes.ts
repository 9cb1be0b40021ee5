// The engine protocol routes, registered together on the reward server.
import type { FastifyInstance } from "fastify";
import type { EngineRouteDeps } from "./engines.ts";
import { registerNemoGym } from "./nemo-gym.ts";
import { registerSlime } from "./slime.ts";
import { registerVerl } from "./verl.ts";

/** verl and the Python adapters (`POST /v1/score`), slime (`POST /slime`, `/slime/dict`), NeMo-Gym (`/verify`, ...). */
export function registerEngineRoutes(app: FastifyInstance, deps: EngineRouteDeps): void {
  registerVerl(app, deps);
  registerSlime(app, deps);
  registerNemoGym(app, deps);
}
