// atob and btoa (HTML Standard, forgiving-base64), with workerd's error messages.

import { DOMException } from './dom_exception.js';

const kAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const kDecode = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) kDecode[kAlphabet.charCodeAt(i)] = i;

function atobError() {
  return new DOMException("atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)", 'InvalidCharacterError');
}

export function btoa(data) {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'btoa' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'string'.");
  }
  const s = String(data);
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) > 0xff) {
      throw new DOMException('btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.', 'InvalidCharacterError');
    }
  }
  let i = 0;
  const parts = [];
  for (; i + 2 < n; i += 3) {
    const v = (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
    out += kAlphabet[v >> 18] + kAlphabet[(v >> 12) & 63] + kAlphabet[(v >> 6) & 63] + kAlphabet[v & 63];
    if (out.length >= 8192) {
      parts.push(out);
      out = '';
    }
  }
  if (n - i === 1) {
    const v = s.charCodeAt(i) << 16;
    out += kAlphabet[v >> 18] + kAlphabet[(v >> 12) & 63] + '==';
  } else if (n - i === 2) {
    const v = (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8);
    out += kAlphabet[v >> 18] + kAlphabet[(v >> 12) & 63] + kAlphabet[(v >> 6) & 63] + '=';
  }
  parts.push(out);
  return parts.join('');
}

export function atob(data) {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'atob' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'string'.");
  }
  let s = String(data).replace(/[\t\n\f\r ]+/g, '');
  if (s.length % 4 === 0) {
    if (s.endsWith('==')) s = s.slice(0, -2);
    else if (s.endsWith('=')) s = s.slice(0, -1);
  }
  if (s.length % 4 === 1) throw atobError();
  const codes = [];
  const parts = [];
  let buf = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? kDecode[c] : -1;
    if (v === -1) throw atobError();
    buf = ((buf << 6) | v) & 0x3fff;  // at most 13 live bits
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      codes.push((buf >> bits) & 0xff);
      if (codes.length === 8192) {
        parts.push(String.fromCharCode.apply(null, codes));
        codes.length = 0;
      }
    }
  }
  parts.push(String.fromCharCode.apply(null, codes));
  return parts.join('');
}
