// Replaces the `tr46` module for whatwg-url in the bundle (see build.mjs). tr46 holds the
// Unicode IDNA mapping table (about 250 KB of JavaScript) and is only needed for hostnames
// that are not plain ASCII: a plain ASCII hostname (letters, digits, '-', '.', no "xn--"
// label) maps to itself lower-cased under UTS #46 with the options URL parsing uses, so it
// is answered here and the real tr46 is loaded on the first other hostname.

let tr46 = null;

function real() {
  // esbuild turns this into a call of the bundled module's lazy initializer.
  // eslint-disable-next-line no-undef
  if (tr46 === null) tr46 = require('tr46');
  return tr46;
}

const kPlainAscii = /^[A-Za-z0-9.-]*$/;
const kPunycodeLabel = /(^|\.)xn--/i;

export function toASCII(domainName, options = {}) {
  if (!options.checkHyphens && !options.useSTD3ASCIIRules && !options.verifyDNSLength &&
      kPlainAscii.test(domainName) && !kPunycodeLabel.test(domainName)) {
    return domainName.toLowerCase();
  }
  return real().toASCII(domainName, options);
}

export function toUnicode(domainName, options) {
  return real().toUnicode(domainName, options);
}
