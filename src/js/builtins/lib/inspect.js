// inspect() and format(): console's formatting of values, following Node's util.inspect (which
// workerd's console uses) without colors: depth 2, breakLength 80, compact 3, arrays grouped in
// columns, `<ref *1>` / `[Circular *1]` for cycles, `%s %d %i %f %j %o %O %c` substitutions.
// What JavaScript cannot see (a Promise's state, Proxy targets) is not shown.
// Objects may define [Symbol.for('nodejs.util.inspect.custom')](depth, options, inspect).

export const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

const kObjectType = 0;
const kArrayType = 1;
const kArrayExtrasType = 2;

const defaultOptions = {
  depth: 2,
  breakLength: 80,
  compact: 3,
  showHidden: false,
  maxArrayLength: 100,
  maxStringLength: 10000,
  sorted: false,
};

// ---------------------------------------------------------------------------------------------
// Type checks from JavaScript: brand checks through built-in methods that throw on a mismatch.

function brand(fn) {
  return (v) => {
    try {
      fn.call(v);
      return true;
    } catch {
      return false;
    }
  };
}
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const isMap = brand(getter(Map.prototype, 'size'));
const isSet = brand(getter(Set.prototype, 'size'));
const isDate = brand(Date.prototype.getTime);
const isArrayBufferValue = brand(getter(ArrayBuffer.prototype, 'byteLength'));
const isSharedArrayBuffer = typeof SharedArrayBuffer === 'function' ? brand(getter(SharedArrayBuffer.prototype, 'byteLength')) : () => false;
const isDataView = brand(getter(DataView.prototype, 'byteLength'));
const isNumberObject = brand(Number.prototype.valueOf);
const isStringObject = brand(String.prototype.valueOf);
const isBooleanObject = brand(Boolean.prototype.valueOf);
const isBigIntObject = brand(BigInt.prototype.valueOf);
const isSymbolObject = brand(Symbol.prototype.valueOf);
const regExpSource = getter(RegExp.prototype, 'source');
const typedArrayTag = getter(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag);
const isWeakMap = (v) => {
  try {
    WeakMap.prototype.has.call(v, {});
    return true;
  } catch {
    return false;
  }
};
const isWeakSet = (v) => {
  try {
    WeakSet.prototype.has.call(v, {});
    return true;
  } catch {
    return false;
  }
};
function isRegExp(v) {
  if (v === RegExp.prototype) return false;
  try {
    regExpSource.call(v);
    return true;
  } catch {
    return false;
  }
}
const isTypedArray = (v) => typedArrayTag.call(v) !== undefined;
const isError = (v) => v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;
const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

const builtInConstructors = new Set([Object, Array, Function, Error, TypeError, RangeError, SyntaxError,
  ReferenceError, EvalError, URIError, Date, RegExp, Map, Set, WeakMap, WeakSet, Number, String, Boolean,
  Symbol, BigInt, Promise, ArrayBuffer, DataView]);

// ---------------------------------------------------------------------------------------------
// Strings

const kMeta = [];
for (let i = 0; i < 160; i++) {
  kMeta.push(i < 32 || i >= 127 ? `\\x${i.toString(16).toUpperCase().padStart(2, '0')}` : '');
}
kMeta[8] = '\\b';
kMeta[9] = '\\t';
kMeta[10] = '\\n';
kMeta[12] = '\\f';
kMeta[13] = '\\r';
kMeta[39] = "\\'";
kMeta[92] = '\\\\';

const strEscapeRe = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const strEscapeReNoQuote = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const keyStrRe = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

function strEscape(str) {
  let quote = "'";
  let escapeRe = strEscapeRe;
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes('`') && !str.includes('${')) quote = '`';
    if (quote !== "'") escapeRe = strEscapeReNoQuote;
  }
  if (!escapeRe.test(str)) return quote + str + quote;
  let result = '';
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if ((c === 39 && quote === "'") || c === 92 || c < 32 || (c > 126 && c < 160)) {
      result += str.slice(last, i) + kMeta[c];
      last = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < str.length) {
        const d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      }
      result += `${str.slice(last, i)}\\u${c.toString(16).toUpperCase()}`;
      last = i + 1;
    }
  }
  if (last !== str.length) result += str.slice(last);
  return quote + result + quote;
}

function formatNumber(n) {
  return Object.is(n, -0) ? '-0' : `${n}`;
}

function formatPrimitive(ctx, value) {
  switch (typeof value) {
    case 'string': {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      if (ctx.compact !== true && value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
        return value.split(/(?<=\n)/).map(strEscape).join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer;
      }
      return strEscape(value) + trailer;
    }
    case 'number': return formatNumber(value);
    case 'bigint': return `${value}n`;
    case 'boolean': return `${value}`;
    case 'undefined': return 'undefined';
    default: return value.toString();  // symbol
  }
}

// ---------------------------------------------------------------------------------------------
// Objects

function getConstructorName(obj) {
  let proto = obj;
  let first = true;
  let firstProto;
  while (proto !== null && proto !== undefined) {
    const d = Object.getOwnPropertyDescriptor(proto, 'constructor');
    if (d !== undefined && typeof d.value === 'function' && d.value.name !== '') {
      try {
        if (obj instanceof d.value) return String(d.value.name);
      } catch {
        // instanceof can throw for exotic constructors; fall through
      }
    }
    proto = Object.getPrototypeOf(proto);
    if (first) {
      firstProto = proto;
      first = false;
    }
  }
  if (firstProto === null) return null;
  return 'Object';
}

function getPrefix(constructor, tag, fallback, size = '') {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function isIndexKey(key) {
  if (typeof key !== 'string' || key.length === 0) return false;
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === key;
}

function getKeys(value, showHidden) {
  const symbols = Object.getOwnPropertySymbols(value);
  let keys;
  if (showHidden) {
    keys = Object.getOwnPropertyNames(value);
    if (symbols.length !== 0) keys.push(...symbols);
  } else {
    keys = Object.keys(value);
    for (const s of symbols) {
      if (Object.prototype.propertyIsEnumerable.call(value, s)) keys.push(s);
    }
  }
  return keys;
}

function getNonIndexKeys(value, showHidden) {
  return getKeys(value, showHidden).filter((k) => !isIndexKey(k));
}

function getFunctionBase(value, constructor, tag) {
  let source = '';
  try {
    source = Function.prototype.toString.call(value);
  } catch {
    // not a real function
  }
  if (source.startsWith('class') && source.endsWith('}')) {
    const name = (Object.prototype.hasOwnProperty.call(value, 'name') && value.name) || '(anonymous)';
    let base = `class ${name}`;
    if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    if (constructor !== null) {
      const superName = Object.getPrototypeOf(value).name;
      if (superName) base += ` extends ${superName}`;
    } else {
      base += ' extends [null prototype]';
    }
    return `[${base}]`;
  }
  let type = 'Function';
  if (value instanceof GeneratorFunction) type = 'GeneratorFunction';
  else if (value instanceof AsyncGeneratorFunction) type = 'AsyncGeneratorFunction';
  else if (value instanceof AsyncFunction) type = 'AsyncFunction';
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  if (value.name === '') base += ' (anonymous)';
  else base += `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function improveStack(stack, constructor, name, tag) {
  let len = name.length;
  if (constructor === null ||
      (name.endsWith('Error') && stack.startsWith(name) &&
       (stack.length === len || stack[len] === ':' || stack[len] === '\n'))) {
    let fallback = 'Error';
    if (constructor === null) {
      const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
      fallback = (start && start[1]) || '';
      len = fallback.length;
      fallback = fallback || 'Error';
    }
    const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
    if (name !== prefix) {
      if (prefix.includes(name)) {
        stack = len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
      } else {
        stack = `${prefix} [${name}]${stack.slice(len)}`;
      }
    }
  }
  return stack;
}

function formatError(err, constructor, tag, ctx, keys) {
  let name;
  let message;
  let stack;
  try {
    name = err.name != null ? String(err.name) : 'Error';
    message = err.message != null ? String(err.message) : '';
    stack = err.stack ? String(err.stack) : Error.prototype.toString.call(err);
  } catch {
    return '[Error]';
  }
  // Properties already shown by the stack are not repeated.
  for (const k of ['name', 'message', 'stack']) {
    const i = keys.indexOf(k);
    if (i !== -1 && stack.includes(String(err[k]))) keys.splice(i, 1);
  }
  if ('cause' in err && !keys.includes('cause') && Object.prototype.hasOwnProperty.call(err, 'cause')) keys.push('cause');
  if (Array.isArray(err.errors) && !keys.includes('errors') && Object.prototype.hasOwnProperty.call(err, 'errors')) keys.push('errors');
  stack = improveStack(stack, constructor, name, tag);
  let pos = (message && stack.indexOf(message)) || -1;
  if (pos !== -1) pos += message.length;
  const stackStart = stack.indexOf('\n    at', pos);
  if (stackStart === -1) stack = `[${stack}]`;
  if (ctx.indentationLvl !== 0) {
    const indentation = ' '.repeat(ctx.indentationLvl);
    stack = stack.split('\n').join(`\n${indentation}`);
  }
  return stack;
}

function formatValue(ctx, value, recurseTimes, typedArray) {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(ctx, value);
  if (value === null) return 'null';

  let custom;
  try {
    custom = value[customInspectSymbol];
  } catch {
    custom = undefined;
  }
  if (typeof custom === 'function' && custom !== inspect) {
    const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
    const options = { ...ctx, depth, seen: undefined, budget: undefined, circular: undefined };
    const ret = custom.call(value, depth, options, inspect);
    if (ret !== value) {
      if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
      return ret.split('\n').join(`\n${' '.repeat(ctx.indentationLvl)}`);
    }
  }

  if (ctx.seen.includes(value)) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = new Map();
      ctx.circular.set(value, index);
    } else {
      index = ctx.circular.get(value);
      if (index === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(value, index);
      }
    }
    return `[Circular *${index}]`;
  }
  return formatRaw(ctx, value, recurseTimes, typedArray);
}

function formatRaw(ctx, value, recurseTimes, typedArray) {
  let keys;
  const constructor = getConstructorName(value);
  let tag = '';
  try {
    const t = value[Symbol.toStringTag];
    if (typeof t === 'string' && t !== '' &&
        !(ctx.showHidden ? Object.prototype.hasOwnProperty : Object.prototype.propertyIsEnumerable).call(value, Symbol.toStringTag)) {
      tag = t;
    }
  } catch {
    // a throwing getter: no tag
  }

  let base = '';
  let formatter = () => [];
  let braces;
  let noIterator = true;
  let extrasType = kObjectType;

  if (Symbol.iterator in value || constructor === null) {
    noIterator = false;
    if (Array.isArray(value)) {
      const prefix = constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = getNonIndexKeys(value, ctx.showHidden);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (isSet(value)) {
      const size = getter(Set.prototype, 'size').call(value);
      const prefix = getPrefix(constructor, tag, 'Set', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatSet;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isMap(value)) {
      const size = getter(Map.prototype, 'size').call(value);
      const prefix = getPrefix(constructor, tag, 'Map', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatMap;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isTypedArray(value)) {
      keys = getNonIndexKeys(value, ctx.showHidden);
      const size = value.length;
      const fallback = typedArrayTag.call(value);
      const prefix = getPrefix(constructor, tag, fallback, `(${size})`);
      braces = [`${prefix}[`, ']'];
      if (size === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = formatTypedArray;
      extrasType = kArrayExtrasType;
    } else {
      noIterator = true;
    }
  }
  if (noIterator) {
    keys = getKeys(value, ctx.showHidden);
    braces = ['{', '}'];
    if (constructor === 'Object' && !isError(value) && !isDate(value) && !isRegExp(value)) {
      if (Object.prototype.toString.call(value) === '[object Arguments]') {
        braces[0] = '[Arguments] [';
        braces[1] = ']';
        extrasType = kArrayExtrasType;
        formatter = formatArray;
        keys = getNonIndexKeys(value, ctx.showHidden);
      } else if (tag !== '') {
        braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      }
      if (keys.length === 0 && formatter !== formatArray) return `${braces[0]}}`;
    } else if (typeof value === 'function') {
      base = getFunctionBase(value, constructor, tag);
      if (keys.length === 0) return base;
    } else if (isRegExp(value)) {
      base = RegExp.prototype.toString.call(value);
      const prefix = getPrefix(constructor, tag, 'RegExp');
      if (prefix !== 'RegExp ') base = `${prefix}${base}`;
      if (keys.length === 0 || (ctx.depth !== null && recurseTimes > ctx.depth)) return base;
    } else if (isDate(value)) {
      const t = Date.prototype.getTime.call(value);
      base = Number.isNaN(t) ? 'Invalid Date' : Date.prototype.toISOString.call(value);
      const prefix = getPrefix(constructor, tag, 'Date');
      if (prefix !== 'Date ') base = `${prefix}${base}`;
      if (keys.length === 0) return base;
    } else if (isError(value)) {
      base = formatError(value, constructor, tag, ctx, keys);
      if (keys.length === 0) return base;
    } else if (isArrayBufferValue(value) || isSharedArrayBuffer(value)) {
      const arrayType = isArrayBufferValue(value) ? 'ArrayBuffer' : 'SharedArrayBuffer';
      const prefix = getPrefix(constructor, tag, arrayType);
      if (typedArray === undefined) {
        formatter = formatArrayBuffer;
      } else if (keys.length === 0) {
        return `${prefix}{ byteLength: ${formatNumber(value.byteLength)} }`;
      }
      braces[0] = `${prefix}{`;
      keys.unshift('byteLength');
    } else if (isDataView(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
      keys.unshift('byteLength', 'byteOffset', 'buffer');
    } else if (value instanceof Promise) {
      braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
      formatter = () => ['<unknown>'];
    } else if (isWeakSet(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'WeakSet')}{`;
      formatter = () => ['<items unknown>'];
    } else if (isWeakMap(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'WeakMap')}{`;
      formatter = () => ['<items unknown>'];
    } else if (isNumberObject(value) || isStringObject(value) || isBooleanObject(value) || isBigIntObject(value) || isSymbolObject(value)) {
      let type;
      let prim;
      if (isNumberObject(value)) {
        type = 'Number';
        prim = formatNumber(Number.prototype.valueOf.call(value));
      } else if (isStringObject(value)) {
        type = 'String';
        const s = String.prototype.valueOf.call(value);
        prim = strEscape(s);
        keys = keys.filter((k) => !isIndexKey(k) || Number(k) >= s.length);
      } else if (isBooleanObject(value)) {
        type = 'Boolean';
        prim = `${Boolean.prototype.valueOf.call(value)}`;
      } else if (isBigIntObject(value)) {
        type = 'BigInt';
        prim = `${BigInt.prototype.valueOf.call(value)}n`;
      } else {
        type = 'Symbol';
        prim = Symbol.prototype.toString.call(value);
      }
      base = `[${type}`;
      if (type !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
      base += `: ${prim}]`;
      if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
      if (keys.length === 0) return base;
    } else {
      if (keys.length === 0) return `${getPrefix(constructor, tag, 'Object')}{}`;
      braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
    }
  }

  if (ctx.depth !== null && recurseTimes > ctx.depth) {
    let name = getPrefix(constructor, tag, 'Object').slice(0, -1);
    if (constructor !== null) name = `[${name}]`;
    return name;
  }
  recurseTimes += 1;
  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  let output;
  try {
    output = formatter(ctx, value, recurseTimes);
    for (let i = 0; i < keys.length; i++) {
      output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
    }
  } catch (err) {
    if (err instanceof RangeError && /call stack/.test(err.message)) {
      ctx.seen.pop();
      return `[${getPrefix(constructor, tag, 'Object').slice(0, -1)}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`;
    }
    throw err;
  }
  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) {
      const reference = `<ref *${index}>`;
      base = base === '' ? reference : `${reference} ${base}`;
    }
  }
  ctx.seen.pop();
  if (ctx.sorted) {
    const cmp = ctx.sorted === true ? undefined : ctx.sorted;
    if (extrasType === kObjectType) output.sort(cmp);
  }
  return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
}

function formatProperty(ctx, value, recurseTimes, key, type) {
  let name;
  let str;
  let desc;
  try {
    desc = Object.getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
  } catch {
    desc = { value: undefined, enumerable: true };
  }
  if (desc.value !== undefined) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, desc.value, recurseTimes);
    ctx.indentationLvl -= 2;
  } else if (desc.get !== undefined) {
    str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  } else if (desc.set !== undefined) {
    str = '[Setter]';
  } else {
    str = 'undefined';
  }
  if (type === kArrayType) return str;
  if (typeof key === 'symbol') {
    name = `[${key.toString()}]`;
  } else if (key === '__proto__') {
    name = "['__proto__']";
  } else if (desc.enumerable === false) {
    name = `[${key}]`;
  } else if (keyStrRe.test(key)) {
    name = key;
  } else {
    name = strEscape(key);
  }
  return `${name}: ${str}`;
}

function remainingText(n) {
  return `... ${n} more item${n > 1 ? 's' : ''}`;
}

function formatArray(ctx, value, recurseTimes) {
  const length = value.length;
  const max = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const output = [];
  let i = 0;
  while (i < length && output.length < max) {
    if (!Object.prototype.hasOwnProperty.call(value, i)) {
      let j = i;
      while (j < length && !Object.prototype.hasOwnProperty.call(value, j)) j++;
      const holes = j - i;
      output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
      i = j;
      continue;
    }
    output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
    i++;
  }
  const remaining = length - i;
  if (remaining > 0) output.push(remainingText(remaining));
  return output;
}

function formatTypedArray(ctx, value) {
  const length = value.length;
  const max = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const output = new Array(max);
  for (let i = 0; i < max; i++) {
    output[i] = typeof value[i] === 'bigint' ? `${value[i]}n` : formatNumber(value[i]);
  }
  if (length > max) output.push(remainingText(length - max));
  if (ctx.showHidden) {
    ctx.indentationLvl += 2;
    for (const key of ['BYTES_PER_ELEMENT', 'length', 'byteLength', 'byteOffset', 'buffer']) {
      output.push(`[${key}]: ${formatValue(ctx, value[key], ctx.currentDepth, true)}`);
    }
    ctx.indentationLvl -= 2;
  }
  return output;
}

function formatArrayBuffer(ctx, value) {
  let bytes;
  try {
    bytes = new Uint8Array(value);
  } catch {
    return ['(detached)'];
  }
  const n = Math.min(ctx.maxArrayLength, bytes.length);
  let hex = '';
  for (let i = 0; i < n; i++) hex += (i === 0 ? '' : ' ') + bytes[i].toString(16).padStart(2, '0');
  const remaining = bytes.length - ctx.maxArrayLength;
  if (remaining > 0) hex += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
  return [`[Uint8Contents]: <${hex}>`];
}

function formatSet(ctx, value, recurseTimes) {
  const size = getter(Set.prototype, 'size').call(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (const v of Set.prototype.values.call(value)) {
    if (i >= max) break;
    output.push(formatValue(ctx, v, recurseTimes));
    i++;
  }
  if (size > max) output.push(remainingText(size - max));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx, value, recurseTimes) {
  const size = getter(Map.prototype, 'size').call(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (const [k, v] of Map.prototype.entries.call(value)) {
    if (i >= max) break;
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
    i++;
  }
  if (size > max) output.push(remainingText(size - max));
  ctx.indentationLvl -= 2;
  return output;
}

// Lays out long arrays of short entries in aligned columns (Node's groupArrayElements).
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  let i = 0;
  let outputLength = output.length;
  if (ctx.maxArrayLength < output.length) outputLength--;  // "... more items" is not grouped
  const separatorSpace = 2;
  const dataLen = new Array(outputLength);
  for (; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp = [];
    const maxLineLength = [];
    for (let c = 0; c < columns; c++) {
      let lineLength = 0;
      for (let j = c; j < output.length; j += columns) {
        if (dataLen[j] > lineLength) lineLength = dataLen[j];
      }
      maxLineLength.push(lineLength + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let k = 0; k < output.length; k++) {
        if (typeof value[k] !== 'number' && typeof value[k] !== 'bigint') {
          padStart = false;
          break;
        }
      }
    }
    for (let k = 0; k < outputLength; k += columns) {
      const max = Math.min(k + columns, outputLength);
      let str = '';
      let j = k;
      for (; j < max - 1; j++) {
        const padding = maxLineLength[j - k];
        str += padStart ? `${output[j]}, `.padStart(padding, ' ') : `${output[j]}, `.padEnd(padding, ' ');
      }
      if (padStart) {
        str += output[j].padStart(maxLineLength[j - k] - separatorSpace, ' ');
      } else {
        str += output[j];
      }
      tmp.push(str);
    }
    if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
    output = tmp;
  }
  return output;
}

function isBelowBreakLength(ctx, output, start, base) {
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    totalLength += output[i].length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === '' || !base.includes('\n');
}

function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (!joined.includes('\n')) {
            return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
          }
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (isBelowBreakLength(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
  }
  const indentation = ' '.repeat(ctx.indentationLvl);
  const ln = base === '' && braces[0].length === 1 ? ' ' : `${base ? ` ${base}` : ''}\n${indentation}  `;
  return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}

export function inspect(value, options = undefined) {
  const ctx = {
    ...defaultOptions,
    seen: [],
    circular: undefined,
    indentationLvl: 0,
    currentDepth: 0,
  };
  if (options !== undefined && options !== null) {
    for (const key of Object.keys(defaultOptions)) {
      if (options[key] !== undefined) ctx[key] = options[key];
    }
    if (ctx.depth === Infinity) ctx.depth = null;
  }
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspectSymbol;

// ---------------------------------------------------------------------------------------------
// format(): console's argument formatting.

function hasBuiltInToString(value) {
  let proto;
  try {
    if (typeof value.toString !== 'function') return true;
    if (Object.prototype.hasOwnProperty.call(value, 'toString')) return false;
    proto = value;
    do {
      proto = Object.getPrototypeOf(proto);
    } while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'toString'));
  } catch {
    return true;
  }
  if (proto === null) return true;
  const d = Object.getOwnPropertyDescriptor(proto, 'constructor');
  return d !== undefined && typeof d.value === 'function' && builtInConstructors.has(d.value);
}

function tryStringify(v) {
  try {
    return JSON.stringify(v);
  } catch (err) {
    if (err instanceof TypeError && /circular/i.test(err.message)) return '[Circular]';
    throw err;
  }
}

export function formatWithOptions(inspectOptions, args) {
  const first = args[0];
  let a = 0;
  let str = '';
  let join = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let tempStr;
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue;  // '%'
      const next = first.charCodeAt(++i);
      if (a + 1 !== args.length) {
        switch (next) {
          case 115: {  // 's'
            const arg = args[++a];
            if (typeof arg === 'number') tempStr = formatNumber(arg);
            else if (typeof arg === 'bigint') tempStr = `${arg}n`;
            else if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) tempStr = String(arg);
            else tempStr = inspect(arg, { ...inspectOptions, depth: 0, compact: 3 });
            break;
          }
          case 106:  // 'j'
            tempStr = tryStringify(args[++a]);
            break;
          case 100: {  // 'd'
            const n = args[++a];
            if (typeof n === 'bigint') tempStr = `${n}n`;
            else if (typeof n === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number(n));
            break;
          }
          case 79:  // 'O'
            tempStr = inspect(args[++a], inspectOptions);
            break;
          case 111:  // 'o'
            tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, depth: 4 });
            break;
          case 105: {  // 'i'
            const n = args[++a];
            if (typeof n === 'bigint') tempStr = `${n}n`;
            else if (typeof n === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number.parseInt(n));
            break;
          }
          case 102: {  // 'f'
            const n = args[++a];
            tempStr = typeof n === 'symbol' ? 'NaN' : formatNumber(Number.parseFloat(n));
            break;
          }
          case 99:  // 'c'
            a += 1;
            tempStr = '';
            break;
          case 37:  // '%'
            str += first.slice(lastPos, i);
            lastPos = i + 1;
            continue;
          default:
            continue;
        }
        if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
        str += tempStr;
        lastPos = i + 1;
      } else if (next === 37) {
        str += first.slice(lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = ' ';
      if (lastPos < first.length) str += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    str += join;
    str += typeof value !== 'string' ? inspect(value, inspectOptions) : value;
    join = ' ';
    a++;
  }
  return str;
}

export function format(...args) {
  return formatWithOptions(undefined, args);
}
