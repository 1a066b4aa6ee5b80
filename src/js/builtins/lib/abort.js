// AbortController and AbortSignal (DOM Standard), with AbortSignal.abort/timeout/any.
// Default reasons are the DOMExceptions workerd uses.

import { native } from './native.js';
import { DOMException } from './dom_exception.js';
import { Event, EventTarget, setTrusted, setAbortHooks } from './events.js';
import { setToStringTag, makeEnumerable } from './util.js';

const kInternal = Symbol('internal');

let newSignal;
let signalAbort;
let addAlgorithm;

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  // Internal steps run on abort before the event (listener removal, AbortSignal.any, ...).
  #algorithms = null;
  #onabort = null;
  #onabortListener = null;

  constructor(token = undefined) {
    if (token !== kInternal) throw new TypeError('Illegal constructor');
    super();
  }

  static abort(reason = undefined) {
    const s = new AbortSignal(kInternal);
    s.#aborted = true;
    s.#reason = reason === undefined ? new DOMException('The operation was aborted', 'AbortError') : reason;
    return s;
  }

  static timeout(ms) {
    const n = Number(ms);
    if (typeof ms !== 'number' || !Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': parameter 1 is not of type 'integer'.");
    }
    const s = new AbortSignal(kInternal);
    native.setTimer(() => {
      signalAbort(s, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, Math.trunc(n), false);
    return s;
  }

  static any(signals) {
    const list = [];
    for (const s of signals) {
      if (!(s instanceof AbortSignal)) {
        throw new TypeError("Failed to execute 'any' on 'AbortSignal': parameter 1 is not of type 'sequence<AbortSignal>'.");
      }
      list.push(s);
    }
    for (const s of list) {
      if (s.#aborted) return AbortSignal.abort(s.#reason);
    }
    const result = new AbortSignal(kInternal);
    for (const s of list) {
      addAlgorithm(s, () => signalAbort(result, s.#reason));
    }
    return result;
  }

  get aborted() {
    return this.#aborted;
  }

  get reason() {
    return this.#reason;
  }

  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }

  get onabort() {
    return this.#onabort;
  }

  set onabort(handler) {
    this.#onabort = typeof handler === 'function' || (handler !== null && typeof handler === 'object') ? handler : null;
    if (this.#onabort !== null && this.#onabortListener === null) {
      this.#onabortListener = (event) => {
        const h = this.#onabort;
        if (typeof h === 'function') h.call(this, event);
      };
      this.addEventListener('abort', this.#onabortListener);
    } else if (this.#onabort === null && this.#onabortListener !== null) {
      this.removeEventListener('abort', this.#onabortListener);
      this.#onabortListener = null;
    }
  }

  static {
    newSignal = () => new AbortSignal(kInternal);
    signalAbort = (s, reason) => {
      if (s.#aborted) return;
      s.#aborted = true;
      s.#reason = reason === undefined ? new DOMException('The operation was aborted', 'AbortError') : reason;
      const algorithms = s.#algorithms;
      s.#algorithms = null;
      if (algorithms !== null) {
        for (const fn of algorithms) {
          try {
            fn();
          } catch (err) {
            native.reportError(err);
          }
        }
      }
      const event = new Event('abort');
      setTrusted(event);
      s.dispatchEvent(event);
    };
    addAlgorithm = (s, fn) => {
      if (s.#aborted) return;
      (s.#algorithms ??= []).push(fn);
    };
    setAbortHooks((v) => #aborted in v, addAlgorithm);
  }

}
makeEnumerable(AbortSignal, ['aborted', 'reason', 'throwIfAborted', 'onabort']);
setToStringTag(AbortSignal);

export { newSignal, signalAbort, addAlgorithm as addAbortAlgorithm };

export class AbortController {
  #signal = newSignal();

  get signal() {
    return this.#signal;
  }

  abort(reason = undefined) {
    signalAbort(this.#signal, reason);
  }
}
makeEnumerable(AbortController, ['signal', 'abort']);
setToStringTag(AbortController);
