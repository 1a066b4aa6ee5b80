// Replaces whatwg-url's lib/encoding.js in the bundle (see build.mjs): that file creates a
// TextEncoder and a TextDecoder from the global object when it loads, and a bare V8 context
// has neither. These go to the native UTF-8 functions instead.

import { native } from './native.js';

// whatwg-url encodes one code point at a time while percent-encoding; those short strings are
// encoded here rather than through a native call each.
export function utf8Encode(string) {
  if (string.length > 2) return native.utf8Encode(string);
  const c = string.codePointAt(0);
  if (string.length === 1 || c > 0xffff) {
    if (c < 0x80) return new Uint8Array([c]);
    if (c < 0x800) return new Uint8Array([0xc0 | (c >> 6), 0x80 | (c & 63)]);
    if (c >= 0xd800 && c <= 0xdfff) return new Uint8Array([0xef, 0xbf, 0xbd]);
    if (c < 0x10000) return new Uint8Array([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]);
    return new Uint8Array([0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]);
  }
  return native.utf8Encode(string);
}

export function utf8DecodeWithoutBOM(bytes) {
  return native.utf8Decode(bytes, false, true);
}
