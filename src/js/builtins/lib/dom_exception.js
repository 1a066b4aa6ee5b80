// DOMException (WebIDL): an Error subclass with a name and the legacy numeric code.

import { setToStringTag } from './util.js';

const kCodes = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
  InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
  InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19,
  AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
  InvalidNodeTypeError: 24, DataCloneError: 25,
};

const kConstants = [
  'INDEX_SIZE_ERR', 'DOMSTRING_SIZE_ERR', 'HIERARCHY_REQUEST_ERR', 'WRONG_DOCUMENT_ERR',
  'INVALID_CHARACTER_ERR', 'NO_DATA_ALLOWED_ERR', 'NO_MODIFICATION_ALLOWED_ERR', 'NOT_FOUND_ERR',
  'NOT_SUPPORTED_ERR', 'INUSE_ATTRIBUTE_ERR', 'INVALID_STATE_ERR', 'SYNTAX_ERR',
  'INVALID_MODIFICATION_ERR', 'NAMESPACE_ERR', 'INVALID_ACCESS_ERR', 'VALIDATION_ERR',
  'TYPE_MISMATCH_ERR', 'SECURITY_ERR', 'NETWORK_ERR', 'ABORT_ERR', 'URL_MISMATCH_ERR',
  'QUOTA_EXCEEDED_ERR', 'TIMEOUT_ERR', 'INVALID_NODE_TYPE_ERR', 'DATA_CLONE_ERR',
];

export class DOMException extends Error {
  #name;
  #message;

  // new DOMException(message = '', name = 'Error') or new DOMException(message, {name, cause}).
  constructor(message = '', options = 'Error') {
    message = String(message);
    let name = 'Error';
    let cause;
    let hasCause = false;
    if (options !== null && typeof options === 'object') {
      if (options.name !== undefined) name = String(options.name);
      if ('cause' in options) {
        hasCause = true;
        cause = options.cause;
      }
    } else if (options !== undefined) {
      name = String(options);
    }
    super(message, hasCause ? { cause } : undefined);
    this.#name = name;
    this.#message = message;
    // Error() computed the stack header from the prototype's name; redo it with the real name.
    if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(this, DOMException);
  }

  get name() {
    return this.#name;
  }

  get message() {
    return this.#message;
  }

  get code() {
    return kCodes[this.#name] ?? 0;
  }
}

// Error() also leaves an own `message` property (the same string as the getter). The legacy
// code constants go on both the constructor and the prototype.
for (let i = 0; i < kConstants.length; i++) {
  Object.defineProperty(DOMException, kConstants[i], { value: i + 1, enumerable: true });
  Object.defineProperty(DOMException.prototype, kConstants[i], { value: i + 1, enumerable: true });
}
setToStringTag(DOMException);
