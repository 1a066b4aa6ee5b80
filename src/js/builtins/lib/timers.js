// setTimeout/setInterval/clearTimeout/clearInterval, queueMicrotask and scheduler.wait over the
// native timer and microtask functions. Timer ids are numbers.

import { native } from './native.js';

function describe(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `type string ('${v.length > 28 ? `${v.slice(0, 25)}...` : v}')`;
  if (typeof v === 'object') return 'an instance of ' + (v.constructor?.name ?? 'Object');
  return `type ${typeof v} (${String(v)})`;
}

function checkCallback(callback) {
  if (typeof callback !== 'function') {
    throw new TypeError(`The "callback" argument must be of type function. Received ${describe(callback)}`);
  }
}

function toDelay(delay) {
  const n = Number(delay);
  return n > 0 && n <= 2147483647 ? n : n > 2147483647 ? 1 : 0;
}

function schedule(callback, delay, args, repeat) {
  checkCallback(callback);
  const fn = args.length === 0 ? callback : () => callback(...args);
  const ms = toDelay(delay);
  // An interval of 0 would fire back to back; like browsers and Node, repeat at 1 ms at most.
  return native.setTimer(fn, repeat && ms < 1 ? 1 : ms, repeat);
}

export function setTimeout(callback, delay = 0, ...args) {
  return schedule(callback, delay, args, false);
}

export function setInterval(callback, delay = 0, ...args) {
  return schedule(callback, delay, args, true);
}

export function clearTimeout(id = undefined) {
  if (typeof id === 'number') native.clearTimer(id);
  else if (id !== null && typeof id === 'object' && typeof id[Symbol.toPrimitive] === 'function') native.clearTimer(Number(id));
}

export const clearInterval = clearTimeout;

export function queueMicrotask(callback) {
  if (typeof callback !== 'function') {
    throw new TypeError("Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  }
  native.enqueueMicrotask(() => {
    try {
      callback();
    } catch (err) {
      native.reportError(err);
    }
  });
}

// workerd's scheduler global: scheduler.wait(ms) resolves after ms milliseconds.
export class Scheduler {
  wait(delay, options = undefined) {
    const signal = options !== undefined && options !== null ? options.signal : undefined;
    if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const id = native.setTimer(resolve, toDelay(delay), false);
      if (signal !== undefined) {
        signal.addEventListener('abort', () => {
          native.clearTimer(id);
          reject(signal.reason);
        }, { once: true });
      }
    });
  }
}
