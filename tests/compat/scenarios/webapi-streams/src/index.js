// Streams: a Durable Object reads a forwarded request body as a ReadableStream, answers with a
// stream it produces, and transforms a body through a TransformStream.
import { DurableObject } from "cloudflare:workers";

export class Pipe extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/count") {
      // Read the forwarded body chunk by chunk.
      let bytes = 0;
      let newlines = 0;
      for await (const chunk of request.body) {
        bytes += chunk.byteLength;
        for (const b of chunk) if (b === 10) newlines++;
      }
      await this.ctx.storage.put("last", { bytes, newlines });
      return Response.json({ bytes, newlines });
    }
    if (url.pathname === "/generate") {
      // A body produced piece by piece.
      const n = Number(url.searchParams.get("n"));
      let i = 0;
      const encoder = new TextEncoder();
      const stream = new ReadableStream({
        pull(controller) {
          if (i === n) {
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(`line ${i++}\n`));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname === "/upper") {
      const upper = new TransformStream({
        transform(chunk, controller) {
          controller.enqueue(chunk.toUpperCase());
        },
      });
      const body = request.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(upper)
        .pipeThrough(new TextEncoderStream());
      return new Response(body);
    }
    if (url.pathname === "/tee") {
      const [a, b] = request.body.tee();
      const [ta, tb] = await Promise.all([new Response(a).text(), new Response(b).text()]);
      return Response.json({ same: ta === tb, length: ta.length });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/worker-stream") {
      // The Worker itself writes a stream through a TransformStream's writable side.
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      const encoder = new TextEncoder();
      (async () => {
        for (const part of ["alpha ", "beta ", "gamma"]) {
          await writer.write(encoder.encode(part));
        }
        await writer.close();
      })();
      return new Response(readable);
    }
    return env.PIPE.getByName("p").fetch(request);
  },
};
