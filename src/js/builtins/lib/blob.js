// Blob and File (File API), holding their bytes in memory.

import { native } from './native.js';
import { ReadableStream } from './streams.js';
import { setToStringTag, makeEnumerable, isBufferSource, copyBytes, concatBytes, toArrayBuffer, utf8Decode } from './util.js';

const kEmpty = new Uint8Array(0);

function normalizeType(type) {
  type = String(type);
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return '';
  }
  return type.toLowerCase();
}

// The bytes of a Blob, shared (never hand them to user code without copying).
export let blobBytes;
// A Blob over `bytes` (taken over, not copied).
export let makeBlob;

// A one-chunk byte stream over `bytes`; the chunk is a copy, since enqueueing may detach it.
export function bytesStream(bytes) {
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (bytes !== null && bytes.byteLength !== 0) controller.enqueue(bytes.slice());
      bytes = null;
      controller.close();
    },
  });
}

export class Blob {
  #bytes = kEmpty;
  #type = '';

  constructor(blobParts = undefined, options = undefined) {
    if (blobParts !== undefined && blobParts !== null) {
      if (typeof blobParts !== 'object' || typeof blobParts[Symbol.iterator] !== 'function') {
        throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
      }
      const chunks = [];
      let total = 0;
      for (const part of blobParts) {
        let bytes;
        if (part instanceof Blob) bytes = part.#bytes;
        else if (isBufferSource(part)) bytes = copyBytes(part);
        else bytes = native.utf8Encode(String(part));
        chunks.push(bytes);
        total += bytes.byteLength;
      }
      // Blob bytes are never mutated nor handed out uncopied, so a single part is shared.
      if (chunks.length !== 0) this.#bytes = concatBytes(chunks, total);
    } else if (blobParts === null) {
      throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
    }
    if (options !== undefined && options !== null && options.type !== undefined) {
      this.#type = normalizeType(options.type);
    }
  }

  get size() {
    return this.#bytes.byteLength;
  }

  get type() {
    return this.#type;
  }

  slice(start = 0, end = undefined, contentType = undefined) {
    const size = this.#bytes.byteLength;
    const rel = (v, dflt) => {
      if (v === undefined) return dflt;
      const n = Math.trunc(Number(v)) || 0;
      return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    };
    const from = rel(start, 0);
    const to = rel(end, size);
    const b = new Blob();
    b.#bytes = this.#bytes.subarray(from, Math.max(from, to));
    b.#type = contentType === undefined ? '' : normalizeType(contentType);
    return b;
  }

  text() {
    return Promise.resolve(utf8Decode(this.#bytes));
  }

  arrayBuffer() {
    return Promise.resolve(toArrayBuffer(this.#bytes.slice()));
  }

  bytes() {
    return Promise.resolve(this.#bytes.slice());
  }

  stream() {
    return bytesStream(this.#bytes);
  }

  static {
    blobBytes = (b) => b.#bytes;
    makeBlob = (bytes, type) => {
      const b = new Blob();
      b.#bytes = bytes;
      b.#type = type;
      return b;
    };
  }
}
makeEnumerable(Blob, ['size', 'type', 'slice', 'text', 'arrayBuffer', 'bytes', 'stream']);
setToStringTag(Blob);

export class File extends Blob {
  #name;
  #lastModified;

  constructor(fileBits, fileName, options = undefined) {
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    }
    super(fileBits, options);
    this.#name = String(fileName);
    const lm = options !== undefined && options !== null ? options.lastModified : undefined;
    this.#lastModified = lm === undefined ? native.now() : Math.trunc(Number(lm)) || 0;
  }

  get name() {
    return this.#name;
  }

  get lastModified() {
    return this.#lastModified;
  }
}
makeEnumerable(File, ['name', 'lastModified']);
setToStringTag(File);
