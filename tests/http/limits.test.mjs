// Every size and count limit of the HTTP layer, as a client meets it: the
// status, PostgREST's error shape with the layer's code, and that the
// server keeps serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { assertErrorShape, parseResponses, rawExchange, request, sleep, startServer } from './helpers.mjs';

describe('limits', { concurrency: true }, () => {
  let server;
  before(async () => {
    server = await startServer(['--max-body', '1024', '--max-url', '1024', '--max-header-bytes', '2048',
      '--max-headers', '20']);
  });
  after(async () => { await server.stop(); });

  test('a body exactly at the limit is accepted', async () => {
    const res = await request(server.port, { method: 'POST', body: 'x'.repeat(1024) });
    assert.equal(res.status, 200);
    assert.equal(res.json().body_len, 1024);
  });

  test('Content-Length over the limit: 413 SB005 before any body is sent', async () => {
    const res = await rawExchange(server.port,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1025\r\n\r\n');
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 413);
    const body = assertErrorShape(assert, r.body, 'SB005');
    assert.match(body.details, /1025/);
    assert.equal(r.headers.connection, 'close');
    assert.ok(r.headers['x-request-id']);
    assert.ok(res.closed, 'closed');
  });

  test('Content-Length over the limit with Expect: 100-continue: 413, no 100', async () => {
    const res = await rawExchange(server.port,
      'PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n');
    const responses = parseResponses(res.data);
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, 413);
    assertErrorShape(assert, responses[0].body, 'SB005');
  });

  test('Expect: 100-continue within the limit: 100 Continue, then the answer', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise((r) => sock.on('connect', r));
    let data = Buffer.alloc(0);
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 100 && !data.includes('100 Continue'); i++) await sleep(10);
    assert.match(data.toString(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    sock.write('hello');
    await new Promise((r) => sock.on('close', r));
    const [cont, r] = parseResponses(data);
    assert.equal(cont.status, 100);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).body, 'hello');
  });

  test('a client that sends the whole oversized body still reads the 413', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');
    const res = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/echo', agent: false,
        headers: { 'content-length': big.length } }, (r) => {
        let text = '';
        r.on('data', (d) => { text += d; });
        r.on('end', () => resolve({ status: r.statusCode, body: text }));
      });
      req.on('error', (e) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? null : reject(e)));
      req.end(big);
    });
    assert.equal(res.status, 413);
    assertErrorShape(assert, res.body, 'SB005');
  });

  test('a chunked upload is cut with 413 as soon as it passes the limit', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    let data = Buffer.alloc(0);
    let closed = false;
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    sock.on('close', () => { closed = true; });
    sock.on('error', () => {});
    sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    let sent = 0;
    for (let i = 0; i < 40 && data.length === 0; i++) {
      sock.write(`100\r\n${'b'.repeat(256)}\r\n`);
      sent += 256;
      await sleep(20);
    }
    for (let i = 0; i < 50 && !closed; i++) await sleep(20);
    const [r] = parseResponses(data);
    assert.equal(r.status, 413);
    assertErrorShape(assert, r.body, 'SB005');
    // answered while the client was still sending (it would send 10 KiB)
    assert.ok(sent > 1024 && sent < 40 * 256, `cut after ${sent} bytes`);
    assert.ok(closed, 'closed after the answer');
    sock.destroy();
  });

  test('a chunked upload within the limit arrives whole', async () => {
    const res = await rawExchange(server.port,
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).body, 'hello world');
  });

  test('URL over the limit: 414 SB006; at the limit: served', async () => {
    const base = '/echo?q=';
    const atLimit = base + 'a'.repeat(1024 - base.length);
    assert.equal((await request(server.port, { path: atLimit })).status, 200);
    const res = await request(server.port, { path: atLimit + 'a' });
    assert.equal(res.status, 414);
    const body = assertErrorShape(assert, res.body, 'SB006');
    assert.match(body.details, /1025 bytes; the limit is 1024/);
  });

  test('a query of many short parameters within the URL limit is served', async () => {
    const q = Array.from({ length: 240 }, () => 'a=1').join('&');
    const res = await request(server.port, { path: `/echo?${q}` });
    assert.equal(res.status, 200);
    assert.equal(res.json().query, q);
  });

  test('a URL far over every buffer is still 414', async () => {
    const res = await rawExchange(server.port, `GET /echo?${'a'.repeat(200000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.match(res.data.toString('latin1'), /^HTTP\/1\.1 414 /);
  });

  test('headers over the byte limit: 431 SB007, connection still usable', async () => {
    const res = await rawExchange(server.port,
      `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(2100)}\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const [r, next] = parseResponses(res.data);
    assert.equal(r.status, 431);
    assertErrorShape(assert, r.body, 'SB007');
    assert.equal(next.status, 200);
  });

  test('too many header lines: 431 SB008', async () => {
    const headers = Array.from({ length: 21 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const res = await rawExchange(server.port, `GET /echo HTTP/1.1\r\n${headers}\r\nConnection: close\r\n\r\n`);
    const [r] = parseResponses(res.data);
    assert.equal(r.status, 431);
    assertErrorShape(assert, r.body, 'SB008');
  });

  test('too many header lines with a body on its way: 431, and the body is not misread', async () => {
    const headers = Array.from({ length: 21 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const res = await rawExchange(server.port,
      `POST /echo HTTP/1.1\r\n${headers}\r\nContent-Length: 300\r\n\r\n${'GET /echo HTTP/1.1\r\n\r\n'.repeat(12)}`);
    const responses = parseResponses(res.data);
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, 431);
    assertErrorShape(assert, responses[0].body, 'SB008');
    assert.ok(res.closed);
  });

  test('headers far over every buffer are still 431', async () => {
    const res = await rawExchange(server.port, `GET /echo HTTP/1.1\r\nX-Big: ${'h'.repeat(200000)}\r\n\r\n`);
    assert.match(res.data.toString('latin1'), /^HTTP\/1\.1 431 /);
  });

  test('the server still serves after all of the above', async () => {
    await sleep(200);
    assert.equal((await request(server.port)).status, 200);
  });
});

// Open n idle keep-alive connections from a local address.
async function openIdle(port, n, localAddress = '127.0.0.1') {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => {});
    await new Promise((r) => s.on('connect', r));
    socks.push(s);
  }
  await sleep(100);
  return socks;
}

describe('connection limits', { concurrency: true }, () => {
  test('past max connections: 503 SB009 with Retry-After, then served again', async () => {
    const server = await startServer(['--max-conns', '3']);
    try {
      const idle = await openIdle(server.port, 3);
      const res = await rawExchange(server.port, 'GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
      const [r] = parseResponses(res.data);
      assert.equal(r.status, 503);
      assertErrorShape(assert, r.body, 'SB009');
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(r.headers.connection, 'close');
      assert.ok(res.closed);
      idle.forEach((s) => s.destroy());
      await sleep(200);
      assert.equal((await request(server.port)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('past max connections per address: 503 SB010; other addresses served', async () => {
    const server = await startServer(['--max-conns-per-ip', '2']);
    try {
      const idle = await openIdle(server.port, 2);
      const res = await rawExchange(server.port, 'GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
      const [r] = parseResponses(res.data);
      assert.equal(r.status, 503);
      assertErrorShape(assert, r.body, 'SB010');
      const other = await new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: server.port, path: '/echo', localAddress: '127.0.0.2', agent: false },
          (x) => { let t = ''; x.on('data', (d) => { t += d; }); x.on('end', () => resolve({ status: x.statusCode, body: t })); });
        req.on('error', reject);
        req.end();
      });
      assert.equal(other.status, 200);
      assert.equal(JSON.parse(other.body).client, '127.0.0.2');
      idle.forEach((s) => s.destroy());
    } finally {
      await server.stop();
    }
  });
});
