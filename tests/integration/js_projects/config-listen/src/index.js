// Answers every request with "hello from <name>".
export default {
  async fetch(request, env) {
    return new Response(`hello from ${env.NAME}`);
  },
};
