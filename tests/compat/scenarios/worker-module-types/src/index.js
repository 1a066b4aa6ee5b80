// Module types by wrangler's default rules: JSON, Data (.bin -> ArrayBuffer), Text (.html -> string)
// and CompiledWasm (.wasm -> WebAssembly.Module), imported from the main module.
import config from "./config.json";
import blob from "./blob.bin";
import page from "./page.html";
import addModule from "./add.wasm";

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/json") return Response.json(config);
    if (path === "/data") {
      return Response.json({ isArrayBuffer: blob instanceof ArrayBuffer, bytes: [...new Uint8Array(blob)] });
    }
    if (path === "/text") return new Response(page, { headers: { "content-type": "text/html" } });
    if (path === "/wasm") {
      const instance = new WebAssembly.Instance(addModule);
      return Response.json({ isModule: addModule instanceof WebAssembly.Module, sum: instance.exports.add(40, 2) });
    }
    if (path === "/wasm-async") {
      const instance = await WebAssembly.instantiate(addModule);
      return Response.json({ sum: instance.exports.add(1, 2) });
    }
    if (path === "/wasm-bytes") {
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 7, 7, 1, 3, 97, 100, 100, 0, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1, 106, 11]);
      // Workers compile WebAssembly only from modules, never from bytes at run time.
      try {
        const { instance } = await WebAssembly.instantiate(bytes);
        return Response.json({ sum: instance.exports.add(2, 3) });
      } catch (e) {
        return Response.json({ name: e.name, message: e.message });
      }
    }
    return new Response("not found", { status: 404 });
  },
};
