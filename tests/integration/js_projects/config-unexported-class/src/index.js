// Defines GhostClass but does not export it.
import { DurableObject } from "cloudflare:workers";

class GhostClass extends DurableObject {}

export default {
  async fetch(request, env) {
    return new Response("unreachable");
  },
};
