// crypto: getRandomValues, randomUUID and subtle.digest over native functions, with workerd's
// errors. Other SubtleCrypto operations are not implemented yet (they reject NotSupportedError).

import { native } from './native.js';
import { DOMException } from './dom_exception.js';
import { setToStringTag, makeEnumerable, isBufferSource, viewBytes } from './util.js';

const kIntegerArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, BigInt64Array, BigUint64Array];

const kDigests = new Map([['sha-1', 'SHA-1'], ['sha-256', 'SHA-256'], ['sha-384', 'SHA-384'], ['sha-512', 'SHA-512'], ['md5', 'MD5']]);

const kInternal = Symbol('internal');

function notSupported(op) {
  return Promise.reject(new DOMException(`SubtleCrypto.${op}() is not implemented yet.`, 'NotSupportedError'));
}

export class SubtleCrypto {
  constructor(token = undefined) {
    if (token !== kInternal) throw new TypeError('Illegal constructor');
  }

  digest(algorithm, data) {
    try {
      let name = typeof algorithm === 'string' ? algorithm : algorithm !== null && typeof algorithm === 'object' ? algorithm.name : undefined;
      if (name === undefined) {
        throw new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 1 is not of type 'AlgorithmIdentifier'.");
      }
      name = kDigests.get(String(name).toLowerCase());
      if (name === undefined) throw new DOMException('Unrecognized or unimplemented digest algorithm requested.', 'NotSupportedError');
      if (!isBufferSource(data)) {
        throw new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'BufferSource'.");
      }
      return Promise.resolve(native.digest(name, viewBytes(data)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // workerd's extension: constant-time comparison of two equal-length buffers.
  timingSafeEqual(a, b) {
    if (!isBufferSource(a) || !isBufferSource(b)) {
      throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameters must be of type 'BufferSource'.");
    }
    const x = viewBytes(a);
    const y = viewBytes(b);
    if (x.byteLength !== y.byteLength) throw new RangeError('Input buffers must have the same byte length.');
    let diff = 0;
    for (let i = 0; i < x.byteLength; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }

  encrypt() { return notSupported('encrypt'); }
  decrypt() { return notSupported('decrypt'); }
  sign() { return notSupported('sign'); }
  verify() { return notSupported('verify'); }
  generateKey() { return notSupported('generateKey'); }
  deriveKey() { return notSupported('deriveKey'); }
  deriveBits() { return notSupported('deriveBits'); }
  importKey() { return notSupported('importKey'); }
  exportKey() { return notSupported('exportKey'); }
  wrapKey() { return notSupported('wrapKey'); }
  unwrapKey() { return notSupported('unwrapKey'); }
}
makeEnumerable(SubtleCrypto, ['digest', 'timingSafeEqual', 'encrypt', 'decrypt', 'sign', 'verify', 'generateKey',
  'deriveKey', 'deriveBits', 'importKey', 'exportKey', 'wrapKey', 'unwrapKey']);
setToStringTag(SubtleCrypto);

export class Crypto {
  #subtle;

  constructor(token = undefined) {
    if (token !== kInternal) throw new TypeError('Illegal constructor');
    this.#subtle = new SubtleCrypto(kInternal);
  }

  get subtle() {
    return this.#subtle;
  }

  getRandomValues(array) {
    if (!ArrayBuffer.isView(array) || !kIntegerArrays.some((T) => array instanceof T)) {
      throw new DOMException('ArrayBufferView argument to getRandomValues() must be an integer-typed view.', 'TypeMismatchError');
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`getRandomValues() only accepts buffers of size <= 64K but provided ${array.byteLength} bytes.`, 'QuotaExceededError');
    }
    native.getRandomValues(array);
    return array;
  }

  randomUUID() {
    return native.randomUUID();
  }
}
makeEnumerable(Crypto, ['subtle', 'getRandomValues', 'randomUUID']);
setToStringTag(Crypto);

export function makeCrypto() {
  return new Crypto(kInternal);
}
