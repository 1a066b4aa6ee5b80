// structuredClone() over V8's serializer (native.serialize/deserialize). Errors from the
// serializer become DataCloneError DOMExceptions, as in workerd.
//
// `transfer` is accepted for ArrayBuffers but copies them (the originals stay attached): there
// is no way to detach a buffer from JavaScript in V8 10.2. web-streams-polyfill relies on it to
// take ownership of enqueued chunks, which a copy also gives.

import { native } from './native.js';
import { DOMException } from './dom_exception.js';
import { isArrayBuffer } from './util.js';

export function structuredClone(value, options = undefined) {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'.");
  }
  if (options !== undefined && options !== null && options.transfer !== undefined) {
    for (const t of options.transfer) {
      if (!isArrayBuffer(t)) throw new DOMException('Only ArrayBuffers can be transferred.', 'DataCloneError');
    }
  }
  let data;
  try {
    data = native.serialize(value);
  } catch (err) {
    if (err instanceof DOMException) throw err;
    throw new DOMException(err instanceof Error ? err.message : String(err), 'DataCloneError');
  }
  return native.deserialize(data);
}
