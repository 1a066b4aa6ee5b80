// The original Durable Object style: a plain class with constructor(state, env) and fetch(),
// using state.storage, state.id, state.blockConcurrencyWhile and env.
export class Notes {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    this.loaded = null;
    state.blockConcurrencyWhile(async () => {
      this.loaded = (await state.storage.get("notes")) ?? [];
    });
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "POST") {
      const note = await request.text();
      this.loaded.push(note);
      await this.state.storage.put("notes", this.loaded);
      return new Response(`${this.env.PREFIX}: ${this.loaded.length} notes`, { status: 201 });
    }
    if (url.pathname.endsWith("/id")) {
      return Response.json({
        hex: /^[0-9a-f]{64}$/.test(this.state.id.toString()),
        name: this.state.id.name,
        hasStorage: typeof this.state.storage.get === "function",
      });
    }
    return Response.json({ notes: this.loaded, stored: await this.state.storage.get("notes") });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, name] = url.pathname.split("/");
    const id = env.NOTES.idFromName(name);
    return env.NOTES.get(id).fetch(request);
  },
};
