// TextEncoder, TextDecoder, TextEncoderStream, TextDecoderStream (Encoding Standard).
// UTF-8 goes through native.utf8* (complete input only: a streaming decode keeps an incomplete
// trailing sequence here until the next call). UTF-16LE/BE and windows-1252 are decoded in JS.

import { native } from './native.js';
import { TransformStream } from './streams.js';
import { setToStringTag, makeEnumerable, isBufferSource, viewBytes } from './util.js';

const kLabels = new Map();
function addLabels(encoding, labels) {
  for (const l of labels) kLabels.set(l, encoding);
}
addLabels('utf-8', ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);
addLabels('utf-16le', ['csunicode', 'iso-10646-ucs-2', 'ucs-2', 'unicode', 'unicodefeff', 'utf-16', 'utf-16le']);
addLabels('utf-16be', ['unicodefffe', 'utf-16be']);
addLabels('windows-1252', ['ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1',
  'iso-ir-100', 'iso8859-1', 'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii',
  'windows-1252', 'x-cp1252']);

// windows-1252 bytes 0x80..0x9F (the rest map to the same code point).
const k1252 = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039,
  0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];

export function normalizeEncodingLabel(label) {
  return kLabels.get(String(label).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase());
}

const kEmpty = new Uint8Array(0);

export class TextEncoder {
  get encoding() {
    return 'utf-8';
  }

  encode(input = '') {
    return native.utf8Encode(String(input));
  }

  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const [read, written] = native.utf8EncodeInto(String(source), destination);
    return { read, written };
  }
}
makeEnumerable(TextEncoder, ['encoding', 'encode', 'encodeInto']);
setToStringTag(TextEncoder);

function decodeError() {
  return new TypeError('Failed to decode input.');
}

// Length of the incomplete UTF-8 sequence at the end of `b` (0 if it ends on a boundary).
function incompleteUtf8Tail(b) {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const c = b[i];
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return c <= 0xf4 && n - i < need ? n - i : 0;
    }
  }
  return 0;
}

export class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #pending = kEmpty;       // bytes held back by a streaming decode
  #bomChecked = false;     // the start of the stream has been decoded (BOM handled)
  #highSurrogate = -1;     // UTF-16: a lead surrogate waiting for its trail

  constructor(label = 'utf-8', options = undefined) {
    const encoding = normalizeEncodingLabel(label);
    if (encoding === undefined) throw new RangeError(`"${label}" is not a valid encoding.`);
    this.#encoding = encoding;
    this.#fatal = !!(options !== undefined && options !== null && options.fatal);
    this.#ignoreBOM = !!(options !== undefined && options !== null && options.ignoreBOM);
  }

  get encoding() {
    return this.#encoding;
  }

  get fatal() {
    return this.#fatal;
  }

  get ignoreBOM() {
    return this.#ignoreBOM;
  }

  decode(input = undefined, options = undefined) {
    let bytes;
    if (input === undefined || input === null) {
      bytes = kEmpty;
    } else if (isBufferSource(input)) {
      bytes = viewBytes(input);
    } else {
      throw new TypeError("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'BufferSource'.");
    }
    const stream = !!(options !== undefined && options !== null && options.stream);
    if (this.#pending.length !== 0) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = kEmpty;
    }
    try {
      switch (this.#encoding) {
        case 'utf-8': return this.#decodeUtf8(bytes, stream);
        case 'utf-16le': return this.#decodeUtf16(bytes, stream, true);
        case 'utf-16be': return this.#decodeUtf16(bytes, stream, false);
        default: return this.#decode1252(bytes);
      }
    } finally {
      if (!stream) {
        this.#pending = kEmpty;
        this.#bomChecked = false;
        this.#highSurrogate = -1;
      }
    }
  }

  #decodeUtf8(bytes, stream) {
    if (stream) {
      const tail = incompleteUtf8Tail(bytes);
      if (tail !== 0) {
        this.#pending = bytes.slice(bytes.length - tail);
        bytes = bytes.subarray(0, bytes.length - tail);
      }
      if (bytes.length === 0) return '';
    }
    // A BOM split across calls is an incomplete sequence, so it was held back above: the
    // first bytes decoded always hold the whole BOM if there is one.
    const ignoreBOM = this.#ignoreBOM || this.#bomChecked;
    if (bytes.length !== 0) this.#bomChecked = true;
    if (!this.#fatal) return native.utf8Decode(bytes, false, ignoreBOM);
    try {
      return native.utf8Decode(bytes, true, ignoreBOM);
    } catch {
      throw decodeError();
    }
  }

  #decodeUtf16(bytes, stream, le) {
    let n = bytes.length;
    if (n % 2 === 1) {
      if (stream) {
        this.#pending = bytes.slice(n - 1);
        n -= 1;
      }
    }
    let out = '';
    let i = 0;
    if (!this.#bomChecked && n >= 2) {
      this.#bomChecked = true;
      const bom = le ? bytes[0] === 0xff && bytes[1] === 0xfe : bytes[0] === 0xfe && bytes[1] === 0xff;
      if (bom && !this.#ignoreBOM) i = 2;
    }
    let hi = this.#highSurrogate;
    const parts = [];
    let codes = [];
    for (; i + 1 < n; i += 2) {
      const u = le ? bytes[i] | (bytes[i + 1] << 8) : (bytes[i] << 8) | bytes[i + 1];
      if (hi !== -1) {
        if (u >= 0xdc00 && u <= 0xdfff) {
          codes.push(hi, u);
          hi = -1;
          continue;
        }
        if (this.#fatal) throw decodeError();
        codes.push(0xfffd);
        hi = -1;
      }
      if (u >= 0xd800 && u <= 0xdbff) {
        hi = u;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        if (this.#fatal) throw decodeError();
        codes.push(0xfffd);
      } else {
        codes.push(u);
      }
      if (codes.length >= 8192) {
        parts.push(String.fromCharCode.apply(null, codes));
        codes = [];
      }
    }
    if (!stream) {
      if (hi !== -1 || n % 2 === 1) {
        if (this.#fatal) throw decodeError();
        codes.push(0xfffd);
      }
      hi = -1;
    }
    this.#highSurrogate = hi;
    parts.push(String.fromCharCode.apply(null, codes));
    out = parts.join('');
    return out;
  }

  #decode1252(bytes) {
    const parts = [];
    for (let start = 0; start < bytes.length; start += 8192) {
      const chunk = bytes.subarray(start, start + 8192);
      const codes = new Array(chunk.length);
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        codes[i] = b >= 0x80 && b < 0xa0 ? k1252[b - 0x80] : b;
      }
      parts.push(String.fromCharCode.apply(null, codes));
    }
    return parts.join('');
  }
}
makeEnumerable(TextDecoder, ['encoding', 'fatal', 'ignoreBOM', 'decode']);
setToStringTag(TextDecoder);

export class TextEncoderStream {
  #transform;

  constructor() {
    let pendingHigh = '';
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        let s = pendingHigh + String(chunk);
        pendingHigh = '';
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pendingHigh = s[s.length - 1];
          s = s.slice(0, -1);
        }
        if (s.length !== 0) controller.enqueue(native.utf8Encode(s));
      },
      flush(controller) {
        if (pendingHigh !== '') controller.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
      },
    });
  }

  get encoding() {
    return 'utf-8';
  }

  get readable() {
    return this.#transform.readable;
  }

  get writable() {
    return this.#transform.writable;
  }
}
makeEnumerable(TextEncoderStream, ['encoding', 'readable', 'writable']);
setToStringTag(TextEncoderStream);

export class TextDecoderStream {
  #decoder;
  #transform;

  constructor(label = 'utf-8', options = undefined) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#transform = new TransformStream({
      transform(chunk, controller) {
        const s = decoder.decode(chunk, { stream: true });
        if (s.length !== 0) controller.enqueue(s);
      },
      flush(controller) {
        const s = decoder.decode();
        if (s.length !== 0) controller.enqueue(s);
      },
    });
  }

  get encoding() {
    return this.#decoder.encoding;
  }

  get fatal() {
    return this.#decoder.fatal;
  }

  get ignoreBOM() {
    return this.#decoder.ignoreBOM;
  }

  get readable() {
    return this.#transform.readable;
  }

  get writable() {
    return this.#transform.writable;
  }
}
makeEnumerable(TextDecoderStream, ['encoding', 'fatal', 'ignoreBOM', 'readable', 'writable']);
setToStringTag(TextDecoderStream);
