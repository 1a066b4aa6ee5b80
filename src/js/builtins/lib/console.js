// console: formats its arguments like workerd/Node (inspect.js) and hands each message to
// native.log(level, message); C++ adds the object's namespace and ID.

import { native } from './native.js';
import { formatWithOptions, inspect } from './inspect.js';

function formatTime(ms) {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Number(ms.toFixed(3))}ms`;
}

// Per-context console state (install() makes one console per context).
export function makeConsole() {
  let groupIndent = '';
  const counts = new Map();
  const timers = new Map();

  const emit = (level, message) => {
    if (groupIndent !== '') message = groupIndent + message.split('\n').join(`\n${groupIndent}`);
    native.log(level, message);
  };
  const logger = (level) => function (...args) {
    emit(level, formatWithOptions(undefined, args));
  };

  const console = {
    log: logger('log'),
    info: logger('info'),
    warn: logger('warn'),
    error: logger('error'),
    debug: logger('debug'),
    trace(...args) {
      const err = { name: 'Trace', message: formatWithOptions(undefined, args) };
      if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(err, console.trace);
      const stack = typeof err.stack === 'string' ? err.stack : `Trace: ${err.message}`;
      emit('log', stack);
    },
    dir(value, options = undefined) {
      emit('log', inspect(value, { ...options }));
    },
    dirxml(...args) {
      emit('log', formatWithOptions(undefined, args));
    },
    table(data, properties = undefined) {
      emit('log', renderTable(data, properties));
    },
    assert(condition, ...args) {
      if (condition) return;
      if (args.length === 0) {
        emit('error', 'Assertion failed');
      } else if (typeof args[0] === 'string') {
        args[0] = `Assertion failed: ${args[0]}`;
        emit('error', formatWithOptions(undefined, args));
      } else {
        emit('error', formatWithOptions(undefined, ['Assertion failed:', ...args]));
      }
    },
    count(label = 'default') {
      label = `${label}`;
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      emit('info', `${label}: ${n}`);
    },
    countReset(label = 'default') {
      counts.delete(`${label}`);
    },
    group(...args) {
      if (args.length !== 0) emit('log', formatWithOptions(undefined, args));
      groupIndent += '  ';
    },
    groupCollapsed(...args) {
      console.group(...args);
    },
    groupEnd() {
      groupIndent = groupIndent.slice(0, -2);
    },
    time(label = 'default') {
      label = `${label}`;
      if (timers.has(label)) {
        emit('warn', `Warning: Label '${label}' already exists for console.time()`);
        return;
      }
      timers.set(label, native.now());
    },
    timeLog(label = 'default', ...data) {
      label = `${label}`;
      const start = timers.get(label);
      if (start === undefined) {
        emit('warn', `Warning: No such label '${label}' for console.timeLog()`);
        return;
      }
      emit('info', formatWithOptions(undefined, [`${label}: ${formatTime(native.now() - start)}`, ...data]));
    },
    timeEnd(label = 'default') {
      label = `${label}`;
      const start = timers.get(label);
      if (start === undefined) {
        emit('warn', `Warning: No such label '${label}' for console.timeEnd()`);
        return;
      }
      timers.delete(label);
      emit('info', `${label}: ${formatTime(native.now() - start)}`);
    },
    clear() {},
    profile() {},
    profileEnd() {},
    timeStamp() {},
  };
  return console;
}

// console.table (Node's layout with box-drawing characters).
function renderTable(data, properties) {
  if (data === null || typeof data !== 'object') return formatWithOptions(undefined, [data]);
  const fmt = (v) => (v === undefined ? '' : inspect(v, { depth: 1, breakLength: Infinity, compact: true }));
  const indexKey = '(index)';
  const valuesKey = 'Values';
  const columns = [];
  const rows = [];
  let hasValues = false;
  const entries = data instanceof Map ? [...data.entries()] : data instanceof Set ? [...data].map((v, i) => [i, v]) : Object.entries(data);
  const iterationKey = data instanceof Map ? '(iteration index)' : null;
  entries.forEach(([key, value], i) => {
    const row = { [indexKey]: iterationKey !== null ? String(i) : String(key) };
    if (data instanceof Map) {
      row.Key = fmt(key);
    }
    if (value !== null && typeof value === 'object') {
      for (const k of properties ?? Object.keys(value)) {
        if (!columns.includes(k)) columns.push(k);
        row[k] = fmt(value[k]);
      }
    } else {
      hasValues = true;
      row[valuesKey] = fmt(value);
    }
    rows.push(row);
  });
  const head = [iterationKey ?? indexKey, ...(data instanceof Map ? ['Key'] : []), ...columns, ...(hasValues ? [valuesKey] : [])];
  const keysOf = [indexKey, ...(data instanceof Map ? ['Key'] : []), ...columns, ...(hasValues ? [valuesKey] : [])];
  const table = rows.map((r) => keysOf.map((k) => r[k] ?? ''));
  const widths = head.map((h, c) => Math.max(h.length, ...table.map((r) => r[c].length)) + 2);
  const center = (s, w) => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const line = (l, m, r) => l + widths.map((w) => '─'.repeat(w)).join(m) + r;
  const out = [line('┌', '┬', '┐'), `│${head.map((h, c) => center(h, widths[c])).join('│')}│`, line('├', '┼', '┤')];
  for (const r of table) out.push(`│${r.map((v, c) => center(v, widths[c])).join('│')}│`);
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}
