// The HTTP layer's everyday behaviour: what the handler sees (decoded path,
// raw query, repeated headers, body), request ids, security and CORS
// headers, HEAD, error shapes, malformed requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertErrorShape, parseResponses, rawExchange, request, sleep, startServer } from './helpers.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('basics', () => {
  let server;
  before(async () => { server = await startServer(['--access-log']); });
  after(async () => { await server.stop(); });

  test('the handler gets the decoded path, the raw query and the body', async () => {
    const res = await request(server.port, {
      method: 'POST',
      path: '/echo/caf%C3%A9%20x?select=a,b&name=eq.J%C3%BCrgen+M&or=(a.eq.1,b.eq.2)',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(res.status, 200);
    const echo = res.json();
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/echo/café x');
    assert.equal(echo.raw_path, '/echo/caf%C3%A9%20x');
    assert.equal(echo.query, 'select=a,b&name=eq.J%C3%BCrgen+M&or=(a.eq.1,b.eq.2)');
    assert.equal(echo.body, '{"a":1}');
    assert.equal(echo.client, '127.0.0.1');
  });

  test('repeated headers are all kept, in order', async () => {
    const res = await rawExchange(server.port,
      'GET /echo HTTP/1.1\r\nHost: x\r\nPrefer: return=representation\r\nprefer: count=exact\r\n' +
      'Connection: close\r\n\r\n');
    const [r] = parseResponses(res.data);
    assert.deepEqual(JSON.parse(r.body).prefer, ['return=representation', 'count=exact']);
  });

  test('every answer carries X-Request-Id, nosniff and a CSP; a valid incoming id is kept', async () => {
    const mine = await request(server.port, { headers: { 'x-request-id': 'trace-42.abc_DEF:7' } });
    assert.equal(mine.headers['x-request-id'], 'trace-42.abc_DEF:7');
    assert.equal(mine.json().id, 'trace-42.abc_DEF:7');
    assert.equal(mine.headers['x-content-type-options'], 'nosniff');
    assert.equal(mine.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    const made = await request(server.port);
    assert.match(made.headers['x-request-id'], UUID);
    const again = await request(server.port);
    assert.notEqual(again.headers['x-request-id'], made.headers['x-request-id']);
    const notFound = await request(server.port, { path: '/nope' });
    assert.equal(notFound.status, 404);
    assert.match(notFound.headers['x-request-id'], UUID);
    assert.equal(notFound.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  });

  test('an invalid or oversized incoming request id is replaced', async () => {
    for (const bad of ['has space', 'quote"d', 'x'.repeat(129), 'semi;colon', '<script>']) {
      const res = await request(server.port, { headers: { 'x-request-id': bad } });
      assert.match(res.headers['x-request-id'], UUID, bad);
    }
    const longest = 'y'.repeat(128);
    assert.equal((await request(server.port, { headers: { 'x-request-id': longest } })).headers['x-request-id'], longest);
  });

  test('HEAD sends the headers of GET, with its Content-Length, and no body', async () => {
    const res = await rawExchange(server.port,
      'HEAD /bench HTTP/1.1\r\nHost: x\r\n\r\nGET /bench HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [head, get] = parseResponses(res.data, { noBody: (i) => i === 0 });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '200');
    assert.equal(head.body, '');
    assert.equal(get.body.length, 200);
    assert.equal(get.headers['content-type'], 'application/json; charset=utf-8');
    JSON.parse(get.body);
  });

  test('CORS preflight: 200, methods, reflected request headers, max age', async () => {
    const res = await request(server.port, {
      method: 'OPTIONS',
      path: '/rest/v1/product',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'apikey, authorization, x-client-info, prefer, content-type, accept-profile, content-profile, range, x-retry-count',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD');
    assert.equal(res.headers['access-control-allow-headers'],
      'apikey, authorization, x-client-info, prefer, content-type, accept-profile, content-profile, range, x-retry-count');
    assert.equal(res.headers['access-control-max-age'], '86400');
    assert.ok(res.headers['x-request-id']);
  });

  test('normal answers expose the headers clients read', async () => {
    const res = await request(server.port, { headers: { origin: 'https://app.example' } });
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const exposed = res.headers['access-control-expose-headers'].split(', ');
    for (const h of ['Content-Range', 'Content-Location', 'Location', 'Preference-Applied', 'X-Request-Id', 'Range-Unit']) {
      assert.ok(exposed.includes(h), h);
    }
    const err = await request(server.port, { path: '/error' });
    assert.equal(err.headers['access-control-allow-origin'], '*');
  });

  test('an OPTIONS without Access-Control-Request-Method reaches the handler', async () => {
    const res = await request(server.port, { method: 'OPTIONS', path: '/echo' });
    assert.equal(res.status, 200);
    assert.equal(res.json().method, 'OPTIONS');
  });

  test('sb_http_response_error gives PostgREST\'s shape', async () => {
    const res = await request(server.port, { path: '/error' });
    assert.equal(res.status, 409);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    const body = assertErrorShape(assert, res.body, '23505');
    assert.equal(body.details, 'Key (id)=(1) already exists.');
    assert.equal(body.hint, null);
  });

  test('response headers cannot be split or override framing', async () => {
    const res = await request(server.port, { path: '/headers' });
    assert.deepEqual(res.json(), { ok: 0, split: -1, length: -1 });
    assert.equal(res.headers['x-test'], 'ok');
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(res.headers['x-split'], undefined);
  });

  test('an unknown method is 405 PGRST117 with Allow', async () => {
    const res = await rawExchange(server.port, 'BREW /echo HTTP/1.1\r\nHost: x\r\n\r\n', { timeout: 1000 });
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD');
    assertErrorShape(assert, r.body, 'PGRST117');
    assert.ok(r.headers['x-request-id']);
  });

  test('malformed request targets are 400 SB001 and the connection stays usable', async () => {
    for (const target of ['/echo/%zz', '/echo/%', '/echo/%4', '/echo/a%00b', 'echo', '*']) {
      const res = await rawExchange(server.port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const [bad, good] = parseResponses(res.data);
      assert.equal(bad.status, 400, target);
      assertErrorShape(assert, bad.body, 'SB001');
      assert.equal(good.status, 200, target);
    }
  });

  test('absolute-form targets are accepted', async () => {
    const res = await rawExchange(server.port,
      'GET http://example.com/echo/x?a=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).path, '/echo/x');
    assert.equal(JSON.parse(r.body).query, 'a=1');
  });

  test('malformed request lines are refused (400/505) or dropped, and closed', async () => {
    // Request lines libmicrohttpd cannot parse never reach this layer: it
    // answers 400 or 505 itself, or closes when the line is not HTTP at all.
    const cases = [
      ['GET /echo HTTP/9.9\r\n\r\n', 505],
      ['GET /echo HTTP/1.1\r\nNo colon here\r\n\r\n', 400],
      ['GET /echo\r\n\r\n', 400],
      ['GARBAGE\r\n\r\n', 0],
      [' \r\n\r\n', 0],
      ['\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n', 0], // a TLS hello
    ];
    for (const [line, status] of cases) {
      const res = await rawExchange(server.port, Buffer.from(line, 'latin1'), { timeout: 2000 });
      assert.ok(res.closed, JSON.stringify(line));
      const text = res.data.toString('latin1');
      if (status) assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(line));
      else assert.equal(text, '', JSON.stringify(line));
    }
    assert.equal((await request(server.port)).status, 200);
  });

  test('HTTP/1.0 is served and closed', async () => {
    const res = await rawExchange(server.port, 'GET /echo HTTP/1.0\r\n\r\n');
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).http10, true);
    assert.ok(res.closed);
  });

  test('one JSON access-log line per request', async () => {
    await request(server.port, { path: '/echo/logged?secret=1', headers: { 'x-request-id': 'log-check-1' } });
    // the line is written once the response is out: wait for it a little
    let line;
    for (let i = 0; i < 50 && !line; i++) {
      line = server.stderr.split('\n').find((l) => l.includes('"log-check-1"'));
      if (!line) await sleep(20);
    }
    assert.ok(line, 'log line present');
    const entry = JSON.parse(line);
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(entry.method, 'GET');
    assert.equal(entry.path, '/echo/logged');
    assert.equal(entry.client, '127.0.0.1');
    assert.equal(entry.status, 200);
    assert.ok(entry.bytes > 0);
    assert.equal(typeof entry.us, 'number');
    assert.ok(!line.includes('secret'), 'the query is not logged');
  });
});

describe('cors with a list of origins', () => {
  let server;
  before(async () => { server = await startServer(['--cors-origins', 'https://a.example, https://b.example']); });
  after(async () => { await server.stop(); });

  test('a listed origin is reflected, with Vary: Origin', async () => {
    const res = await request(server.port, { headers: { origin: 'https://b.example' } });
    assert.equal(res.headers['access-control-allow-origin'], 'https://b.example');
    assert.equal(res.headers.vary, 'Origin');
  });

  test('another origin gets no Allow-Origin', async () => {
    const res = await request(server.port, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const pre = await request(server.port, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-methods'], undefined);
  });
});
