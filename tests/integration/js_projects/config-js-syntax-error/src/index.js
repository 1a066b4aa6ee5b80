// Line 6 has a syntax error: duro serve must exit 1 naming this file and line 6.
export default {
  async fetch(request, env) {
    const a = 1;
    const b = 2;
    return new Response(a +* b);
  },
};
