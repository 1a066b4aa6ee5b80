// Exceptions that escape the Worker's fetch handler: a synchronous throw, a rejected promise, a
// thrown non-Error. Each fails only its own request.
let served = 0;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    served++;
    switch (url.pathname) {
      case "/throw":
        throw new Error("secret detail that must not leak");
      case "/reject":
        await new Promise((resolve) => setTimeout(resolve, 5));
        return Promise.reject(new TypeError("rejected later"));
      case "/throw-string":
        throw "a plain string";
      case "/not-a-response":
        return "this is not a Response";
      case "/ok":
        return new Response("still fine");
    }
    return new Response("not found", { status: 404 });
  },
};
