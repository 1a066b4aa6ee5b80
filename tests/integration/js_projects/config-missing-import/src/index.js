// Imports a module that does not exist.
import { helper } from "./lib/vanished-helper.js";

export default {
  async fetch(request, env) {
    return new Response(helper());
  },
};
