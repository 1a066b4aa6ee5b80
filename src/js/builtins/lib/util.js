// Small helpers shared by the Web API files: WebIDL-ish conversions and byte handling.

import { native } from './native.js';

// Defines `value` on `target` the way WebIDL defines interface objects and operations on the
// global: non-enumerable, writable, configurable.
export function defineHidden(target, name, value) {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

// Sets Symbol.toStringTag on a class prototype (Object.prototype.toString -> "[object Name]").
export function setToStringTag(cls, tag = cls.name) {
  Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: tag, configurable: true });
}

// Makes the listed prototype members enumerable, as WebIDL attributes and operations are
// (for..in over a Request lists them, like in workerd).
// Redefining them also puts them in this order for for..in.
export function makeEnumerable(cls, names) {
  for (const name of names) {
    const d = Object.getOwnPropertyDescriptor(cls.prototype, name);
    d.enumerable = true;
    delete cls.prototype[name];
    Object.defineProperty(cls.prototype, name, d);
  }
}

export function isObject(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

const abByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

export function isArrayBuffer(v) {
  try {
    abByteLength.call(v);
    return true;
  } catch {
    return false;
  }
}

// True for an ArrayBuffer, a SharedArrayBuffer or any ArrayBufferView.
export function isBufferSource(v) {
  return ArrayBuffer.isView(v) || isArrayBuffer(v) ||
      (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer);
}

// A Uint8Array viewing the same memory as the BufferSource `v` (no copy).
export function viewBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

// A Uint8Array holding a private copy of the BufferSource `v`.
export function copyBytes(v) {
  const view = viewBytes(v);
  return view.slice();
}

// The exact ArrayBuffer behind `bytes` when it covers it whole, else a copy of its range.
export function toArrayBuffer(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

export function concatBytes(chunks, total) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

export function utf8Encode(s) {
  return native.utf8Encode(s);
}

// UTF-8 decode as the Fetch standard's body reading does (a leading BOM is dropped, invalid
// sequences become U+FFFD).
export function utf8Decode(bytes) {
  return native.utf8Decode(bytes, false, false);
}

// WebIDL "unsigned short" conversion (used for Response status).
export function toUint16(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return 0;
  const t = Math.trunc(n) % 65536;
  return t < 0 ? t + 65536 : t;
}

// Converts a value to a WebIDL USVString, replacing lone surrogates with U+FFFD.
export function toUSVString(v) {
  const s = String(v);
  return /[\ud800-\udfff]/.test(s) ? s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : s;
}
