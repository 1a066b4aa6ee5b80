// Reading request bodies every way a Worker can: text(), json(), arrayBuffer(), and the
// ReadableStream behind request.body.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/text": {
        const text = await request.text();
        return Response.json({ text, length: text.length, bodyUsed: request.bodyUsed });
      }
      case "/json": {
        const data = await request.json();
        return Response.json({ received: data, type: typeof data });
      }
      case "/bad-json": {
        try {
          await request.json();
          return new Response("parsed");
        } catch (e) {
          return Response.json({ name: e.name });
        }
      }
      case "/bytes": {
        const buf = await request.arrayBuffer();
        const bytes = [...new Uint8Array(buf)];
        return Response.json({ byteLength: buf.byteLength, isArrayBuffer: buf instanceof ArrayBuffer, bytes });
      }
      case "/stream": {
        // Read the body chunk by chunk; chunk boundaries are not compared, only the total.
        const reader = request.body.getReader();
        const decoder = new TextDecoder();
        let text = "";
        let total = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!(value instanceof Uint8Array)) return new Response("chunk is not a Uint8Array", { status: 500 });
          total += value.byteLength;
          text += decoder.decode(value, { stream: true });
        }
        text += decoder.decode();
        return Response.json({ total, text });
      }
      case "/no-body":
        return Response.json({ bodyIsNull: request.body === null, text: await request.text() });
      case "/twice": {
        await request.text();
        try {
          await request.text();
          return new Response("read twice");
        } catch (e) {
          return Response.json({ name: e.name, bodyUsed: request.bodyUsed });
        }
      }
      case "/echo-stream":
        // Pass the request body straight through as the response body.
        return new Response(request.body, { headers: { "content-type": "application/octet-stream" } });
    }
    return new Response("not found", { status: 404 });
  },
};
