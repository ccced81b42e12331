import {
  checkPreflightAnswer,
  corsCheck,
  corsUnsafeRequestHeaderNames,
  getHeader,
  isCorsSafelistedMethod,
  isCorsSafelistedRequestHeader,
  methodAfterRedirect,
  normalizeMethod,
  originAfterRedirect,
  parseAllowList,
  parseMaxAge,
  preflightCauses,
  readableResponseHeaders,
  type HeaderList,
} from '../../lib/doctor/fetch-rules.js';

const PAGE = 'http://localhost:4200';

describe('methods', () => {
  it('normalizes only DELETE, GET, HEAD, OPTIONS, POST and PUT', () => {
    expect(['get', 'Post', 'put', 'delete', 'head', 'options'].map(normalizeMethod)).toEqual(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']);
    expect(normalizeMethod('patch')).toBe('patch');
  });

  it('safelists GET, HEAD and POST, case-sensitively', () => {
    expect(['GET', 'HEAD', 'POST'].every(isCorsSafelistedMethod)).toBe(true);
    expect(isCorsSafelistedMethod('PUT')).toBe(false);
    expect(isCorsSafelistedMethod('post')).toBe(false);
  });
});

describe('CORS-safelisted request headers', () => {
  it.each([
    ['Accept', 'application/json', true],
    ['Accept', 'a'.repeat(128), true],
    ['Accept', 'a'.repeat(129), false],
    ['Accept', 'text/html; q="1"', false], // " is a CORS-unsafe byte
    ['Accept', 'text/html\tq', true], // tab is not
    ['Accept-Language', 'en-US,fr;q=0.5', true],
    ['Accept-Language', 'en_US', false],
    ['Content-Language', 'de', true],
    ['Content-Type', 'text/plain;charset=UTF-8', true],
    ['content-type', 'Multipart/Form-Data; boundary=x', true],
    ['Content-Type', 'application/x-www-form-urlencoded', true],
    ['Content-Type', 'application/json', false],
    ['Content-Type', 'text/plain; charset="utf-8"', false], // the quote is a CORS-unsafe byte
    ['Content-Type', '', false],
    ['Range', 'bytes=0-', true],
    ['Range', 'bytes=5-10', true],
    ['Range', 'bytes=10-5', false],
    ['Range', 'bytes=0-1,3-4', false],
    ['X-Requested-With', 'XMLHttpRequest', false],
    ['Authorization', 'Bearer t', false],
  ])('%s: %s is safelisted: %s', (name, value, safelisted) => {
    expect(isCorsSafelistedRequestHeader(name, value)).toBe(safelisted);
  });

  it('names the unsafe headers lower-case, sorted and once', () => {
    expect(corsUnsafeRequestHeaderNames([['X-B', '1'], ['Content-Type', 'application/json'], ['x-b', '2'], ['Accept', '*/*']])).toEqual(['content-type', 'x-b']);
  });

  // only repeated headers can get there: five names of 128 bytes at most make 640
  it('makes every safelisted header unsafe once their values total over 1024 bytes', () => {
    const nine = Array.from({ length: 9 }, (): [string, string] => ['Accept', 'a'.repeat(120)]); // 1080 bytes
    expect(corsUnsafeRequestHeaderNames(nine.slice(0, 8))).toEqual([]); // 960
    expect(corsUnsafeRequestHeaderNames(nine)).toEqual(['accept']);
    expect(preflightCauses('GET', nine)).toEqual(['header accept: safelisted header values total 1080 bytes, over 1024']);
  });

  it('says why a preflight is needed, or that none is', () => {
    expect(preflightCauses('GET', [['Accept', 'application/json']])).toEqual([]);
    expect(preflightCauses('PUT', [['Content-Type', 'application/json'], ['X-Api-Key', 'k']])).toEqual([
      'method PUT is not CORS-safelisted (only GET, HEAD and POST are)',
      'header content-type has a value that is not CORS-safelisted (only application/x-www-form-urlencoded, multipart/form-data and text/plain are)',
      'header x-api-key is not CORS-safelisted',
    ]);
  });
});

describe('the CORS check', () => {
  const acao = (value: string, ...more: Array<[string, string]>): HeaderList => [['Access-Control-Allow-Origin', value], ...more];

  it('passes the exact origin, and * only without credentials', () => {
    expect(corsCheck(PAGE, false, acao(PAGE))).toBeNull();
    expect(corsCheck(PAGE, false, acao('*'))).toBeNull();
    expect(corsCheck(PAGE, true, acao('*', ['Access-Control-Allow-Credentials', 'true']))?.reason).toBe('allow-origin-wildcard-with-credentials');
    expect(corsCheck(PAGE, true, acao(PAGE, ['Access-Control-Allow-Credentials', 'true']))).toBeNull();
  });

  it.each([
    [[], false, 'allow-origin-missing'],
    [acao(`${PAGE}/`), false, 'allow-origin-mismatch'],
    [acao('HTTP://localhost:4200'), false, 'allow-origin-mismatch'],
    [acao(`${PAGE}, https://other.example`), false, 'allow-origin-multiple'],
    [[...acao(PAGE), ...acao(PAGE)], false, 'allow-origin-multiple'],
    [acao(PAGE), true, 'allow-credentials-missing'],
    [acao(PAGE, ['Access-Control-Allow-Credentials', 'True']), true, 'allow-credentials-missing'],
  ] as const)('fails %j (credentials %s) with %s', (headers, credentials, reason) => {
    const failure = corsCheck(PAGE, credentials, headers);
    expect(failure?.reason).toBe(reason);
    expect(failure?.fix).toMatch(reason === 'allow-credentials-missing' ? /Access-Control-Allow-Credentials: true/ : `Access-Control-Allow-Origin: ${PAGE}`);
  });

  it('combines repeated headers as browsers do', () => {
    expect(getHeader([['Vary', 'Origin'], ['vary', 'Accept']], 'VARY')).toBe('Origin, Accept');
    expect(getHeader([], 'vary')).toBeNull();
  });
});

describe('the preflight answer', () => {
  const put = { origin: PAGE, method: 'PUT', headers: [] as HeaderList, credentials: false };
  const answer = (status: number, ...headers: Array<[string, string]>) => ({ status, headers: [['Access-Control-Allow-Origin', PAGE], ...headers] as HeaderList });

  it('checks the CORS check before the status, as browsers do', () => {
    expect(checkPreflightAnswer(put, { status: 500, headers: [] })?.reason).toBe('allow-origin-missing');
    expect(checkPreflightAnswer(put, answer(404, ['Access-Control-Allow-Methods', 'PUT']))?.reason).toBe('preflight-status');
    expect(checkPreflightAnswer(put, answer(204, ['Access-Control-Allow-Methods', 'PUT']))).toBeNull();
  });

  it('compares methods byte for byte; * is a method only with credentials', () => {
    expect(checkPreflightAnswer(put, answer(204, ['Access-Control-Allow-Methods', 'put']))?.reason).toBe('method-not-allowed');
    expect(checkPreflightAnswer({ ...put, method: 'patch' }, answer(204, ['Access-Control-Allow-Methods', 'PATCH']))?.reason).toBe('method-not-allowed');
    expect(checkPreflightAnswer(put, answer(204, ['Access-Control-Allow-Methods', '*']))).toBeNull();
    const withCredentials = answer(204, ['Access-Control-Allow-Methods', '*'], ['Access-Control-Allow-Credentials', 'true']);
    expect(checkPreflightAnswer({ ...put, credentials: true }, withCredentials)?.because).toContain("'*' is a literal method name with credentials");
  });

  it('needs no Allow-Methods for a safelisted method', () => {
    const post = { ...put, method: 'POST', headers: [['Content-Type', 'application/json']] as HeaderList };
    expect(checkPreflightAnswer(post, answer(204, ['Access-Control-Allow-Headers', 'content-type']))).toBeNull();
  });

  it('compares header names case-insensitively; * only without credentials', () => {
    const get = { ...put, method: 'GET', headers: [['X-Api-Key', 'k']] as HeaderList };
    expect(checkPreflightAnswer(get, answer(204, ['Access-Control-Allow-Headers', 'X-API-KEY']))).toBeNull();
    expect(checkPreflightAnswer(get, answer(204, ['Access-Control-Allow-Headers', 'content-type']))?.reason).toBe('header-not-allowed');
    expect(checkPreflightAnswer(get, answer(204, ['Access-Control-Allow-Headers', '*']))).toBeNull();
    const credentialed = answer(204, ['Access-Control-Allow-Headers', '*'], ['Access-Control-Allow-Credentials', 'true']);
    expect(checkPreflightAnswer({ ...get, credentials: true }, credentialed)?.reason).toBe('header-not-allowed');
  });

  it('lets * cover Authorization as browsers do, and blocks it under the standard', () => {
    const get = { ...put, method: 'GET', headers: [['Authorization', 'Bearer t']] as HeaderList };
    const star = answer(204, ['Access-Control-Allow-Headers', '*']);
    expect(checkPreflightAnswer(get, star)).toBeNull();
    expect(checkPreflightAnswer(get, star, { wildcardCoversAuthorization: false })?.reason).toBe('authorization-not-covered-by-wildcard');
    expect(checkPreflightAnswer(get, answer(204, ['Access-Control-Allow-Headers', '*, Authorization']), { wildcardCoversAuthorization: false })).toBeNull();
  });

  it('fails a list that is not tokens, and skips empty items', () => {
    expect(parseAllowList('GET, PUT ,,\tDELETE')).toEqual(['GET', 'PUT', 'DELETE']);
    expect(parseAllowList('PUT, GE T')).toBe('invalid');
    expect(parseAllowList(null)).toBeNull();
    expect(checkPreflightAnswer(put, answer(204, ['Access-Control-Allow-Methods', 'PUT, GE T']))?.reason).toBe('allow-list-invalid');
  });

  it('reads Access-Control-Max-Age as whole seconds', () => {
    expect(parseMaxAge('600')).toBe(600);
    expect(parseMaxAge('-1')).toBeNull();
    expect(parseMaxAge('1.5')).toBeNull();
    expect(parseMaxAge(null)).toBeNull();
  });
});

describe('redirects', () => {
  const api = new URL('http://api.example/a');
  it('taints the origin to null across origins, unless the page is the origin left', () => {
    expect(originAfterRedirect(PAGE, api, new URL('http://api.example/b'))).toBe(PAGE);
    expect(originAfterRedirect(PAGE, api, new URL('http://cdn.example/b'))).toBe('null');
    expect(originAfterRedirect('http://api.example', api, new URL('http://cdn.example/b'))).toBe('http://api.example');
  });

  it('turns POST into GET on 301/302, anything but GET/HEAD on 303', () => {
    expect([301, 302, 303, 307, 308].map((status) => methodAfterRedirect(status, 'POST'))).toEqual(['GET', 'GET', 'GET', 'POST', 'POST']);
    expect(methodAfterRedirect(303, 'PUT')).toBe('GET');
    expect(methodAfterRedirect(302, 'PUT')).toBe('PUT');
  });
});

describe('response headers script can read', () => {
  const response: HeaderList = [['Content-Type', 'text/plain'], ['X-Total', '3'], ['ETag', '"1"'], ['Set-Cookie', 'a=b']];
  it('are the safelisted ones plus the exposed ones', () => {
    expect(readableResponseHeaders(response, false)).toEqual(['content-type']);
    expect(readableResponseHeaders([...response, ['Access-Control-Expose-Headers', 'x-total']], false)).toEqual(['content-type', 'x-total']);
  });

  it('with * all but Set-Cookie, and only without credentials', () => {
    const star: HeaderList = [...response, ['Access-Control-Expose-Headers', '*']];
    expect(readableResponseHeaders(star, false)).toEqual(['access-control-expose-headers', 'content-type', 'etag', 'x-total']);
    expect(readableResponseHeaders(star, true)).toEqual(['content-type']);
  });
});
