// Text modules: an .html file and a .txt file imported as strings (wrangler's default rules make
// *.html and *.txt Text modules) and served as response bodies.
import page from "./static/page.html";
import notes from "./static/notes.txt";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (url.pathname === "/notes") return new Response(notes);
    if (url.pathname === "/info") {
      return Response.json({
        pageType: typeof page,
        pageLength: page.length,
        startsWith: page.slice(0, 15),
        notesLines: notes.split("\n"),
      });
    }
    return new Response("not found", { status: 404 });
  },
};
