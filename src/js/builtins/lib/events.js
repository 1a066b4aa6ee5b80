// Event, CustomEvent and EventTarget (DOM Standard), as Workers has them: there is no tree, so
// dispatch only reaches the target itself (phase AT_TARGET). Exceptions thrown by listeners are
// reported through native.reportError and never thrown out of dispatchEvent().

import { native } from './native.js';
import { DOMException } from './dom_exception.js';
import { setToStringTag, makeEnumerable, isObject } from './util.js';

const NONE = 0;
const CAPTURING_PHASE = 1;
const AT_TARGET = 2;
const BUBBLING_PHASE = 3;

// Module-private accessors to Event internals, set in Event's static block.
let beginDispatch;
let endDispatch;
let isStopped;
let setInPassive;
export let setTrusted;

export class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #target = null;
  #currentTarget = null;
  #phase = NONE;
  #canceled = false;
  #stopPropagation = false;
  #stopImmediate = false;
  #dispatching = false;
  #inPassive = false;
  #trusted = false;
  #timeStamp;

  constructor(type, init = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'Event': constructor parameter 1 is not of type 'string'.");
    }
    this.#type = String(type);
    if (init !== undefined && init !== null) {
      if (typeof init !== 'object') throw new TypeError("Failed to construct 'Event': parameter 2 is not of type 'EventInit'.");
      this.#bubbles = !!init.bubbles;
      this.#cancelable = !!init.cancelable;
      this.#composed = !!init.composed;
    } else {
      this.#bubbles = false;
      this.#cancelable = false;
      this.#composed = false;
    }
    this.#timeStamp = native.now();
  }

  get type() { return this.#type; }
  get bubbles() { return this.#bubbles; }
  get cancelable() { return this.#cancelable; }
  get composed() { return this.#composed; }
  get target() { return this.#target; }
  get srcElement() { return this.#target; }
  get currentTarget() { return this.#currentTarget; }
  get eventPhase() { return this.#phase; }
  get defaultPrevented() { return this.#canceled; }
  get returnValue() { return !this.#canceled; }
  set returnValue(v) { if (!v) this.preventDefault(); }
  get cancelBubble() { return this.#stopPropagation; }
  set cancelBubble(v) { if (v) this.#stopPropagation = true; }
  get isTrusted() { return this.#trusted; }
  get timeStamp() { return this.#timeStamp; }

  composedPath() {
    return this.#dispatching && this.#currentTarget !== null ? [this.#currentTarget] : [];
  }

  preventDefault() {
    if (this.#cancelable && !this.#inPassive) this.#canceled = true;
  }

  stopPropagation() {
    this.#stopPropagation = true;
  }

  stopImmediatePropagation() {
    this.#stopPropagation = true;
    this.#stopImmediate = true;
  }

  static {
    beginDispatch = (e, target) => {
      if (e.#dispatching) throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
      e.#dispatching = true;
      e.#target = target;
      e.#currentTarget = target;
      e.#phase = AT_TARGET;
    };
    endDispatch = (e) => {
      e.#dispatching = false;
      e.#currentTarget = null;
      e.#phase = NONE;
      e.#stopPropagation = false;
      e.#stopImmediate = false;
      e.#inPassive = false;
    };
    isStopped = (e) => e.#stopImmediate;
    setInPassive = (e, v) => { e.#inPassive = v; };
    setTrusted = (e) => { e.#trusted = true; };
  }
}

for (const [name, value] of [['NONE', NONE], ['CAPTURING_PHASE', CAPTURING_PHASE], ['AT_TARGET', AT_TARGET], ['BUBBLING_PHASE', BUBBLING_PHASE]]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}
makeEnumerable(Event, ['type', 'bubbles', 'cancelable', 'composed', 'target', 'srcElement', 'currentTarget',
  'eventPhase', 'defaultPrevented', 'returnValue', 'cancelBubble', 'isTrusted', 'timeStamp', 'composedPath',
  'preventDefault', 'stopPropagation', 'stopImmediatePropagation']);
setToStringTag(Event);

export class CustomEvent extends Event {
  #detail;

  constructor(type, init = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'CustomEvent': constructor parameter 1 is not of type 'string'.");
    }
    super(type, init);
    this.#detail = init !== undefined && init !== null && init.detail !== undefined ? init.detail : null;
  }

  get detail() {
    return this.#detail;
  }
}
makeEnumerable(CustomEvent, ['detail']);
setToStringTag(CustomEvent);

// One registered listener. `removed` is set when it is removed, so a dispatch already iterating
// over a snapshot skips it.
class Listener {
  constructor(callback, capture, once, passive) {
    this.callback = callback;
    this.capture = capture;
    this.once = once;
    this.passive = passive;
    this.removed = false;
  }
}

// Set by abort.js (AbortSignal extends EventTarget, so it cannot be imported here).
let isAbortSignal = () => false;
let addAbortAlgorithm = null;
export function setAbortHooks(isSignal, addAlgorithm) {
  isAbortSignal = isSignal;
  addAbortAlgorithm = addAlgorithm;
}

function flattenCapture(options) {
  if (typeof options === 'boolean') return options;
  if (isObject(options)) return !!options.capture;
  return false;
}

export class EventTarget {
  // Map<type, Listener[]>, created on the first addEventListener.
  #listeners = null;

  constructor() {}

  addEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) {
      throw new TypeError(`Failed to execute 'addEventListener' on 'EventTarget': 2 arguments required, but only ${arguments.length} present.`);
    }
    type = String(type);
    let capture = false;
    let once = false;
    let passive = false;
    let signal;
    if (typeof options === 'boolean') {
      capture = options;
    } else if (isObject(options)) {
      capture = !!options.capture;
      once = !!options.once;
      passive = !!options.passive;
      signal = options.signal;
      if (signal !== undefined && !isAbortSignal(signal)) {
        throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type AbortSignal.");
      }
    }
    if (callback === null || callback === undefined) return;
    if (typeof callback !== 'function' && typeof callback !== 'object') {
      throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'function or HandlerObject'.");
    }
    if (signal !== undefined && signal.aborted) return;
    if (this.#listeners === null) this.#listeners = new Map();
    let list = this.#listeners.get(type);
    if (list === undefined) {
      list = [];
      this.#listeners.set(type, list);
    }
    for (const l of list) {
      if (l.callback === callback && l.capture === capture) return;
    }
    const listener = new Listener(callback, capture, once, passive);
    list.push(listener);
    if (signal !== undefined) {
      addAbortAlgorithm(signal, () => this.#remove(type, listener));
    }
  }

  removeEventListener(type, callback, options = undefined) {
    if (this.#listeners === null || callback === null || callback === undefined) return;
    const list = this.#listeners.get(String(type));
    if (list === undefined) return;
    const capture = flattenCapture(options);
    for (const l of list) {
      if (l.callback === callback && l.capture === capture) {
        this.#remove(String(type), l);
        return;
      }
    }
  }

  #remove(type, listener) {
    listener.removed = true;
    const list = this.#listeners?.get(type);
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(type);
  }

  dispatchEvent(event) {
    if (!(event instanceof Event)) {
      throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    }
    beginDispatch(event, this);
    try {
      const list = this.#listeners?.get(event.type);
      if (list !== undefined) {
        for (const l of list.slice()) {
          if (l.removed) continue;
          if (l.once) this.#remove(event.type, l);
          if (l.passive) setInPassive(event, true);
          try {
            const cb = l.callback;
            if (typeof cb === 'function') {
              cb.call(this, event);
            } else {
              const handleEvent = cb.handleEvent;
              if (typeof handleEvent !== 'function') throw new TypeError("'handleEvent' property of event listener is not a function.");
              handleEvent.call(cb, event);
            }
          } catch (err) {
            native.reportError(err);
          }
          if (l.passive) setInPassive(event, false);
          if (isStopped(event)) break;
        }
      }
    } finally {
      endDispatch(event);
    }
    return !event.defaultPrevented;
  }
}
makeEnumerable(EventTarget, ['addEventListener', 'removeEventListener', 'dispatchEvent']);
setToStringTag(EventTarget);
