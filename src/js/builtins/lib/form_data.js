// FormData (XHR Standard) and the two body formats it reads and writes:
// application/x-www-form-urlencoded and multipart/form-data.

import { native } from './native.js';
import { Blob, File, blobBytes } from './blob.js';
import { URLSearchParams } from './url.js';
import { setToStringTag, makeEnumerable, concatBytes, toUSVString } from './util.js';

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

class FormDataIterator {
  #entries;
  #kind;
  #index = 0;

  constructor(entries, kind) {
    this.#entries = entries;
    this.#kind = kind;
  }

  next() {
    if (this.#index >= this.#entries.length) return { value: undefined, done: true };
    const e = this.#entries[this.#index++];
    return { value: this.#kind === 0 ? [e[0], e[1]] : this.#kind === 1 ? e[0] : e[1], done: false };
  }
}
Object.setPrototypeOf(FormDataIterator.prototype, IteratorPrototype);
setToStringTag(FormDataIterator, 'FormData Iterator');

function toEntryValue(value, filename, argc) {
  if (value instanceof Blob) {
    if (!(value instanceof File) || argc > 2) {
      const name = argc > 2 ? String(filename) : value instanceof File ? value.name : 'blob';
      return new File([value], name, { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined });
    }
    return value;
  }
  return toUSVString(value);
}

export let formDataEntries;

export class FormData {
  #entries = [];

  constructor(form = undefined) {
    if (form !== undefined) {
      throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
    }
  }

  append(name, value, filename = undefined) {
    this.#entries.push([toUSVString(name), toEntryValue(value, filename, arguments.length)]);
  }

  delete(name) {
    name = toUSVString(name);
    this.#entries = this.#entries.filter((e) => e[0] !== name);
  }

  get(name) {
    name = toUSVString(name);
    const e = this.#entries.find((x) => x[0] === name);
    return e === undefined ? null : e[1];
  }

  getAll(name) {
    name = toUSVString(name);
    return this.#entries.filter((e) => e[0] === name).map((e) => e[1]);
  }

  has(name) {
    name = toUSVString(name);
    return this.#entries.some((e) => e[0] === name);
  }

  set(name, value, filename = undefined) {
    name = toUSVString(name);
    const entry = [name, toEntryValue(value, filename, arguments.length)];
    const i = this.#entries.findIndex((e) => e[0] === name);
    if (i === -1) {
      this.#entries.push(entry);
    } else {
      this.#entries[i] = entry;
      this.#entries = this.#entries.filter((e, j) => j <= i || e[0] !== name);
    }
  }

  forEach(callback, thisArg = undefined) {
    for (const [k, v] of this.#entries.slice()) callback.call(thisArg, v, k, this);
  }

  entries() {
    return new FormDataIterator(this.#entries.slice(), 0);
  }

  keys() {
    return new FormDataIterator(this.#entries.slice(), 1);
  }

  values() {
    return new FormDataIterator(this.#entries.slice(), 2);
  }

  static {
    formDataEntries = (f) => f.#entries;
  }
}
FormData.prototype[Symbol.iterator] = FormData.prototype.entries;
Object.defineProperty(FormData.prototype, Symbol.iterator, { enumerable: false });
makeEnumerable(FormData, ['append', 'delete', 'get', 'getAll', 'has', 'set', 'forEach', 'entries', 'keys', 'values']);
setToStringTag(FormData);

function escapeMultipartName(s) {
  return s.replace(/\r\n|\r|\n/g, '\r\n').replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

// Serializes `form` as multipart/form-data: [bytes, content type].
export function encodeMultipart(form) {
  let boundary = '----formdata-duro-';
  const random = new Uint8Array(12);
  native.getRandomValues(random);
  for (const b of random) boundary += b.toString(16).padStart(2, '0');
  const chunks = [];
  let total = 0;
  const push = (bytes) => {
    chunks.push(bytes);
    total += bytes.byteLength;
  };
  for (const [name, value] of formDataEntries(form)) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeMultipartName(name)}"`;
    if (typeof value === 'string') {
      push(native.utf8Encode(`${head}\r\n\r\n${value.replace(/\r\n|\r|\n/g, '\r\n')}\r\n`));
    } else {
      head += `; filename="${escapeMultipartName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      push(native.utf8Encode(head));
      push(blobBytes(value));
      push(native.utf8Encode('\r\n'));
    }
  }
  push(native.utf8Encode(`--${boundary}--\r\n`));
  return [concatBytes(chunks, total), `multipart/form-data; boundary=${boundary}`];
}

// Parses a body as FormData according to its Content-Type (Body.formData()).
export function parseFormData(bytes, contentType) {
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mime === 'application/x-www-form-urlencoded') {
    const form = new FormData();
    for (const [k, v] of new URLSearchParams(native.utf8Decode(bytes, false, false))) form.append(k, v);
    return form;
  }
  if (mime === 'multipart/form-data') {
    const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    if (m === null) throw new TypeError('No boundary string in Content-Type header. The multipart/form-data MIME type requires a boundary parameter.');
    return parseMultipart(bytes, m[1] ?? m[2]);
  }
  throw new TypeError('Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded');
}

function indexOf(hay, needle, from) {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function parseMultipart(bytes, boundary) {
  const form = new FormData();
  const delim = native.utf8Encode(`--${boundary}`);
  const bad = () => new TypeError('Failed to parse multipart/form-data body.');
  let pos = indexOf(bytes, delim, 0);
  if (pos === -1) throw bad();
  for (;;) {
    pos += delim.length;
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return form;  // closing "--"
    if (bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a) pos += 2;
    const headEnd = indexOf(bytes, native.utf8Encode('\r\n\r\n'), pos);
    if (headEnd === -1) throw bad();
    const head = native.utf8Decode(bytes.subarray(pos, headEnd), false, false);
    const next = indexOf(bytes, native.utf8Encode(`\r\n--${boundary}`), headEnd + 4);
    if (next === -1) throw bad();
    const content = bytes.subarray(headEnd + 4, next);
    let name = null;
    let filename = null;
    let type = '';
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') {
        const n = /;\s*name="([^"]*)"/i.exec(value) ?? /;\s*name=([^;\s]*)/i.exec(value);
        const f = /;\s*filename="([^"]*)"/i.exec(value) ?? /;\s*filename=([^;\s]*)/i.exec(value);
        if (n !== null) name = n[1];
        if (f !== null) filename = f[1];
      } else if (key === 'content-type') {
        type = value;
      }
    }
    if (name === null) throw bad();
    if (filename !== null) {
      form.append(name, new File([content.slice()], filename, { type }));
    } else {
      form.append(name, native.utf8Decode(content, false, false));
    }
    pos = next + 2;
  }
}
