// Replaces whatwg-url's lib/encoding.js in the bundle (see build.mjs): that file creates a
// TextEncoder and a TextDecoder from the global object when it loads, and a bare V8 context
// has neither. These go to the native UTF-8 functions instead.

import { native } from './native.js';

export function utf8Encode(string) {
  return native.utf8Encode(string);
}

export function utf8DecodeWithoutBOM(bytes) {
  return native.utf8Decode(bytes, false, true);
}
