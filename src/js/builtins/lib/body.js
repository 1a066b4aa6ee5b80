// The Body mixin of Request and Response (Fetch Standard), as a base class like workerd's.
//
// A body is kept in its cheapest form until something needs another one:
//   #src    null | string | Uint8Array   the bytes or text, as constructed (never exposed
//                                        uncopied while another body may share it)
//   #stream null | ReadableStream        the body as a stream: given as the body, or created
//                                        from #src the first time `.body` is read (then #src
//                                        is dropped and the stream is the only truth)
// text() on a string body returns the string; arrayBuffer() of bytes returns them without a
// stream. Headers are also kept here, lazily: a flat [name, value, ...] list from C++ becomes
// a Headers object only when `.headers` is read.

import { ReadableStream } from './streams.js';
import { Blob, blobBytes, makeBlob, bytesStream } from './blob.js';
import { FormData, encodeMultipart, parseFormData } from './form_data.js';
import { URLSearchParams } from './url.js';
import { headersFromFlat, headersToFlat, headersHasKey, headersGetKey, headersAppendTrusted, kGuardNone } from './headers.js';
import { isArrayBuffer, copyBytes, toArrayBuffer, concatBytes, utf8Encode, utf8Decode, makeEnumerable } from './util.js';

function usedError() {
  return new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
}

function lockedError() {
  return new TypeError('This ReadableStream is currently locked to a reader.');
}

// A stream's "disturbed" flag (read from or cancelled). web-streams-polyfill keeps it as
// `_disturbed`, as the reference implementation does.
function isDisturbed(stream) {
  return stream._disturbed === true;
}

// Marks streams created from a string or bytes source with that source, so a stream that is
// passed on untouched as another body (new Response(request.body)) keeps the fast path.
const kSource = Symbol('duro.bodySource');

function sourceStream(src) {
  const stream = bytesStream(typeof src === 'string' ? utf8Encode(src) : src);
  stream[kSource] = src;
  return stream;
}

// Reads a stream to the end: Promise<Uint8Array>.
export async function readAllBytes(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let bytes;
    if (value instanceof Uint8Array) bytes = value;
    else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else if (isArrayBuffer(value)) bytes = new Uint8Array(value);
    else {
      const err = new TypeError('This ReadableStream did not return bytes.');
      reader.cancel(err).catch(() => {});
      throw err;
    }
    chunks.push(bytes);
    total += bytes.byteLength;
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, total);
}

// "Extract a body" (BodyInit -> [src, stream, contentType]). Buffers are copied, as the standard
// requires; an untouched stream made by sourceStream() gives back its source.
export function extractBody(init) {
  if (typeof init === 'string') return [init, null, 'text/plain;charset=UTF-8'];
  if (init instanceof ReadableStream) {
    if (init.locked || isDisturbed(init)) {
      throw new TypeError('This ReadableStream is disturbed (has already been read from), and cannot be used as a body.');
    }
    const src = init[kSource];
    if (src !== undefined) {
      init.getReader();  // lock it: the new body owns the data now
      return [src, null, null];
    }
    return [null, init, null];
  }
  if (ArrayBuffer.isView(init) || isArrayBuffer(init)) return [copyBytes(init), null, null];
  if (init instanceof URLSearchParams) return [init.toString(), null, 'application/x-www-form-urlencoded;charset=UTF-8'];
  if (init instanceof Blob) return [blobBytes(init), null, init.type === '' ? null : init.type];
  if (init instanceof FormData) {
    const [bytes, type] = encodeMultipart(init);
    return [bytes, null, type];
  }
  return [String(init), null, 'text/plain;charset=UTF-8'];
}

// Module-private access to Body internals (set in the static block).
export let bodyInit;
export let bodySetHeaders;
export let bodyInitFlatHeaders;
export let bodyHeaders;
export let bodyFlatHeaders;
export let bodyTake;
export let bodyParts;
export let bodyCloneInto;
export let bodyHasBody;
export let bodyIsUsed;

export class Body {
  #src = null;
  #stream = null;
  #used = false;
  #headers = null;
  #flat = null;
  #guard = kGuardNone;

  get body() {
    if (this.#stream === null) {
      if (this.#src !== null) {
        this.#stream = sourceStream(this.#src);
        this.#src = null;
      } else if (this.#used) {
        // Read through text() & co.: the body is still there, as a disturbed stream.
        this.#stream = new ReadableStream();
        this.#stream.cancel();
      }
    }
    return this.#stream;
  }

  get bodyUsed() {
    return this.#used || (this.#stream !== null && isDisturbed(this.#stream));
  }

  // Takes the body for reading: the source (string | Uint8Array | null) or a Promise<Uint8Array>
  // for a stream. Throws if it was used already.
  #consume() {
    if (this.#used) throw usedError();
    const stream = this.#stream;
    // A null body can be "read" any number of times and never counts as used.
    if (stream === null && this.#src === null) return null;
    if (stream !== null) {
      if (isDisturbed(stream)) throw usedError();
      if (stream.locked) throw lockedError();
      this.#used = true;
      const src = stream[kSource];
      if (src !== undefined) {
        // `.body` was only looked at: skip the stream, but lock it as reading would.
        stream.getReader();
        return src;
      }
      return readAllBytes(stream);
    }
    this.#used = true;
    const src = this.#src;
    this.#src = null;
    return src;
  }

  #contentType() {
    if (this.#headers !== null) return headersGetKey(this.#headers, 'content-type');
    const flat = this.#flat;
    if (flat === null) return null;
    let result = null;
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i].toLowerCase() === 'content-type') result = result === null ? flat[i + 1] : `${result}, ${flat[i + 1]}`;
    }
    return result;
  }

  text() {
    let src;
    try {
      src = this.#consume();
    } catch (err) {
      return Promise.reject(err);
    }
    if (typeof src === 'string') return Promise.resolve(src);
    if (src === null) return Promise.resolve('');
    if (src instanceof Uint8Array) return Promise.resolve(utf8Decode(src));
    return src.then(utf8Decode);
  }

  json() {
    return this.text().then(JSON.parse);
  }

  bytes() {
    let src;
    try {
      src = this.#consume();
    } catch (err) {
      return Promise.reject(err);
    }
    if (typeof src === 'string') return Promise.resolve(utf8Encode(src));
    if (src === null) return Promise.resolve(new Uint8Array(0));
    return Promise.resolve(src);
  }

  arrayBuffer() {
    return this.bytes().then(toArrayBuffer);
  }

  blob() {
    const type = this.#contentType();
    return this.bytes().then((bytes) => makeBlob(bytes, type === null ? '' : type.toLowerCase()));
  }

  formData() {
    const type = this.#contentType();
    return this.bytes().then((bytes) => parseFormData(bytes, type));
  }

  static {
    // Sets the body from extractBody()'s result or a trusted source.
    bodyInit = (b, src, stream) => {
      b.#src = src;
      b.#stream = stream;
    };
    bodySetHeaders = (b, headers) => {
      b.#headers = headers;
      b.#flat = null;
    };
    bodyInitFlatHeaders = (b, flat, guard) => {
      b.#flat = flat;
      b.#guard = guard;
    };
    bodyHeaders = (b) => {
      if (b.#headers === null) {
        b.#headers = headersFromFlat(b.#flat === null ? [] : b.#flat, b.#guard);
        b.#flat = null;
      }
      return b.#headers;
    };
    // The flat header list for C++ (the one C++ gave us when Headers were never materialized).
    bodyFlatHeaders = (b) => {
      if (b.#headers === null) return b.#flat === null ? [] : b.#flat;
      return headersToFlat(b.#headers);
    };
    // Moves the body out of `b` (new Request(request)): [src, stream]; b becomes used.
    bodyTake = (b) => {
      if (b.#used || (b.#stream !== null && (isDisturbed(b.#stream) || b.#stream.locked))) {
        throw new TypeError('Cannot reconstruct a Request with a used body.');
      }
      const taken = [b.#src, b.#stream];
      if (b.#src !== null || b.#stream !== null) b.#used = true;
      b.#src = null;
      b.#stream = null;
      return taken;
    };
    // The body for C++: null | string | Uint8Array | Promise<Uint8Array>; marks it used.
    bodyParts = (b) => b.#consume();
    // Copies the body of `from` into the fresh `to` (clone()).
    bodyCloneInto = (from, to) => {
      if (from.#used || (from.#stream !== null && (isDisturbed(from.#stream) || from.#stream.locked))) {
        throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
      }
      if (from.#stream !== null) {
        const [a, b] = from.#stream.tee();
        from.#stream = a;
        to.#stream = b;
      } else {
        // Strings are immutable; bytes are copied since either side may hand them out.
        to.#src = from.#src instanceof Uint8Array ? from.#src.slice() : from.#src;
      }
    };
    bodyHasBody = (b) => b.#src !== null || b.#stream !== null;
    bodyIsUsed = (b) => b.bodyUsed;
  }
}
makeEnumerable(Body, ['body', 'bodyUsed', 'arrayBuffer', 'bytes', 'text', 'json', 'formData', 'blob']);

// Adds `contentType` as Content-Type unless the headers have one.
export function addContentType(headers, contentType) {
  if (contentType !== null && !headersHasKey(headers, 'content-type')) headersAppendTrusted(headers, 'content-type', contentType);
}
