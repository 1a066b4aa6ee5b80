// URL and URLSearchParams from whatwg-url (the URL Standard's reference implementation), plus
// its parser for internal use (Request URLs, Response.redirect) without creating URL objects.

export { URL, URLSearchParams, parseURL, serializeURL } from 'whatwg-url';
