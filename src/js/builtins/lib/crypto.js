// crypto: getRandomValues, randomUUID, subtle.digest and HMAC keys (importKey, generateKey,
// exportKey, sign, verify) over native functions, with workerd's errors. Other SubtleCrypto
// operations are not implemented yet (they reject NotSupportedError).

import { native } from './native.js';
import { DOMException } from './dom_exception.js';
import { setToStringTag, makeEnumerable, isBufferSource, viewBytes } from './util.js';

const kIntegerArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, BigInt64Array, BigUint64Array];

const kDigests = new Map([['sha-1', 'SHA-1'], ['sha-256', 'SHA-256'], ['sha-384', 'SHA-384'], ['sha-512', 'SHA-512'], ['md5', 'MD5']]);

const kInternal = Symbol('internal');

// A key as SubtleCrypto hands it out. Only HMAC secret keys exist so far; the bytes stay in a
// private field (exportKey("raw") returns a copy when the key is extractable).
export class CryptoKey {
  #bytes;
  constructor(token, bytes, algorithm, extractable, usages) {
    if (token !== kInternal) throw new TypeError('Illegal constructor');
    this.#bytes = bytes;
    this.type = 'secret';
    this.extractable = extractable;
    this.algorithm = algorithm;
    this.usages = usages;
  }
  static bytesOf(key) {
    return key.#bytes;
  }
}
setToStringTag(CryptoKey);

function algorithmName(algorithm) {
  const name = typeof algorithm === 'string' ? algorithm : algorithm?.name;
  if (typeof name !== 'string') throw new TypeError('Algorithm must have a name.');
  return name;
}

function hashName(hash) {
  const name = kDigests.get(algorithmName(hash).toLowerCase());
  if (name === undefined || name === 'MD5') {
    throw new DOMException('Unrecognized or unimplemented hash algorithm requested.', 'NotSupportedError');
  }
  return name;
}

const kHmacUsages = ['sign', 'verify'];

function hmacKey(bytes, algorithm, extractable, usages) {
  const hash = hashName(algorithm.hash);
  usages = [...usages];
  for (const u of usages) {
    if (!kHmacUsages.includes(u)) throw new DOMException(`Attempt to create a HMAC key with invalid usages.`, 'SyntaxError');
  }
  const length = algorithm.length ?? bytes.byteLength * 8;
  return new CryptoKey(kInternal, bytes, { name: 'HMAC', hash: { name: hash }, length }, Boolean(extractable), usages);
}

function checkHmacKey(key, usage) {
  if (!(key instanceof CryptoKey)) throw new TypeError('key must be a CryptoKey.');
  if (key.algorithm.name !== 'HMAC') {
    throw new DOMException('Requested algorithm does not match the key.', 'InvalidAccessError');
  }
  if (!key.usages.includes(usage)) {
    throw new DOMException(`Requested key usage "${usage}" does not match any usage listed in this CryptoKey.`, 'InvalidAccessError');
  }
}

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
  importKey(format, keyData, algorithm, extractable, usages) {
    try {
      if (algorithmName(algorithm).toUpperCase() !== 'HMAC') return notSupported('importKey');
      if (format !== 'raw') return notSupported(`importKey("${format}")`);
      if (!isBufferSource(keyData)) throw new TypeError('keyData must be a BufferSource.');
      return Promise.resolve(hmacKey(new Uint8Array(viewBytes(keyData)), algorithm, extractable, usages));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  generateKey(algorithm, extractable, usages) {
    try {
      if (algorithmName(algorithm).toUpperCase() !== 'HMAC') return notSupported('generateKey');
      const hash = hashName(algorithm.hash);
      const bits = algorithm.length ?? (hash === 'SHA-384' || hash === 'SHA-512' ? 1024 : 512);
      const bytes = new Uint8Array(Math.ceil(bits / 8));
      native.getRandomValues(bytes);
      return Promise.resolve(hmacKey(bytes, algorithm, extractable, usages));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  exportKey(format, key) {
    try {
      if (!(key instanceof CryptoKey)) throw new TypeError('key must be a CryptoKey.');
      if (format !== 'raw') return notSupported(`exportKey("${format}")`);
      if (!key.extractable) throw new DOMException('Key is not extractable.', 'InvalidAccessError');
      return Promise.resolve(new Uint8Array(CryptoKey.bytesOf(key)).buffer);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  sign(algorithm, key, data) {
    try {
      if (algorithmName(algorithm).toUpperCase() !== 'HMAC') return notSupported('sign');
      checkHmacKey(key, 'sign');
      if (!isBufferSource(data)) throw new TypeError('data must be a BufferSource.');
      return Promise.resolve(native.hmac(key.algorithm.hash.name, CryptoKey.bytesOf(key), viewBytes(data)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  verify(algorithm, key, signature, data) {
    try {
      if (algorithmName(algorithm).toUpperCase() !== 'HMAC') return notSupported('verify');
      checkHmacKey(key, 'verify');
      if (!isBufferSource(signature) || !isBufferSource(data)) {
        throw new TypeError('signature and data must be BufferSources.');
      }
      const expected = new Uint8Array(native.hmac(key.algorithm.hash.name, CryptoKey.bytesOf(key), viewBytes(data)));
      const given = viewBytes(signature);
      if (given.byteLength !== expected.byteLength) return Promise.resolve(false);
      let diff = 0;
      for (let i = 0; i < given.byteLength; i++) diff |= given[i] ^ expected[i];
      return Promise.resolve(diff === 0);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  deriveKey() { return notSupported('deriveKey'); }
  deriveBits() { return notSupported('deriveBits'); }
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
