// URL and URLSearchParams from whatwg-url (the URL Standard's reference implementation), plus
// its parser for internal use (Request URLs, Response.redirect) without creating URL objects.
// Common absolute URLs skip whatwg-url's code-point-by-code-point parser (url_fast.js).

import usm from 'whatwg-url/lib/url-state-machine.js';
import { fastParse } from './url_fast.js';

const fullParse = usm.basicURLParse;
// URL-impl.js and parseURL() call basicURLParse through the module's exports, so replacing it
// there covers new URL(), URL.canParse(), href setters and parseURL().
usm.basicURLParse = function basicURLParse(input, options) {
  if (options === undefined || (options.url === undefined && options.stateOverride === undefined)) {
    const record = fastParse(input);
    if (record !== undefined) return record;
  }
  return fullParse(input, options);
};

export { URL, URLSearchParams, parseURL, serializeURL } from 'whatwg-url';
export { fastParse as fastParseForTest, fullParse as fullParseForTest };
