// A fast path for whatwg-url's parser (installed by url.js): whatwg-url is the URL Standard's
// reference implementation and walks the input code point by code point (~20 µs for a typical
// request URL), while nearly every Worker starts with `new URL(request.url)`. fastParse() handles
// the common shape of an absolute http(s)/ws(s) URL whose parts need no percent-encoding, no
// IDNA, no IPv6 and no dot-segment removal (IPv4 only in canonical dotted-decimal form, as
// request.url has it when a server is reached by address), and returns the same URL record the
// full parser would; for anything else it returns undefined and the full parser runs.

const kShape = /^(https?|wss?):\/\/([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(\/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?$/;
const kPrintableAscii = /^[\x21-\x7e]*$/;
// Characters the path, query or fragment state would percent-encode, plus '\' (a path
// separator in special URLs).
const kPathSpecial = /["<>`{}^\\]/;
const kQuerySpecial = /["<>'\\]/;
const kFragmentSpecial = /["<>`]/;
const kDotSegment = /^(?:\.|%2e){1,2}$/i;
const kDefaultPorts = { http: 80, https: 443, ws: 80, wss: 443 };
const kDecimalOctet = /^(?:0|[1-9][0-9]{0,2})$/;

export function fastParse(input) {
  if (input.length > 2048 || !kPrintableAscii.test(input)) return undefined;
  const m = kShape.exec(input);
  if (m === null) return undefined;
  const scheme = m[1].toLowerCase();
  const host = m[2].toLowerCase();
  // Empty labels other than a trailing one, IPv4-looking last labels and punycode go the long way.
  const labels = host.split('.');
  if (labels[labels.length - 1] === '') labels.pop();
  if (labels.length === 0 || labels.some((l) => l === '' || l.startsWith('xn--'))) return undefined;
  const last = labels[labels.length - 1];
  let hostRecord = host;
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last)) {
    // Canonical a.b.c.d (no leading zeros, each at most 255): the IPv4 parser's number.
    if (labels.length !== 4 || host.endsWith('.') || !labels.every((l) => kDecimalOctet.test(l) && Number(l) <= 255)) {
      return undefined;
    }
    hostRecord = labels.reduce((n, l) => n * 256 + Number(l), 0);
  }
  let port = null;
  if (m[3] !== undefined) {
    const n = Number(m[3]);
    if (n > 65535) return undefined;
    if (n !== kDefaultPorts[scheme]) port = n;
  }
  let path;
  if (m[4] === undefined) {
    path = [''];
  } else {
    if (kPathSpecial.test(m[4])) return undefined;
    path = m[4].slice(1).split('/');
    for (const segment of path) {
      if (segment.length <= 6 && kDotSegment.test(segment)) return undefined;
    }
  }
  const query = m[5] === undefined ? null : m[5];
  if (query !== null && kQuerySpecial.test(query)) return undefined;
  const fragment = m[6] === undefined ? null : m[6];
  if (fragment !== null && kFragmentSpecial.test(fragment)) return undefined;
  return { scheme, username: '', password: '', host: hostRecord, port, path, query, fragment };
}
