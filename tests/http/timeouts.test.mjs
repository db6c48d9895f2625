// Deadlines: a slow-loris client is cut off with 408 while others are
// served; a slow body likewise; idle keep-alive connections and silent
// connections are closed without an answer; a request in its handler is
// never cut. The server runs with 2-3 s timeouts to keep this short.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { assertErrorShape, parseResponses, request, sleep, startServer } from './helpers.mjs';

// A socket that records what arrives and when it closes.
async function connect(port) {
  const sock = net.connect(port, '127.0.0.1');
  const state = { sock, data: Buffer.alloc(0), closedAt: 0, firstDataAt: 0 };
  sock.on('data', (d) => {
    if (!state.firstDataAt) state.firstDataAt = Date.now();
    state.data = Buffer.concat([state.data, d]);
  });
  sock.on('close', () => { state.closedAt = Date.now(); });
  sock.on('error', () => {});
  await new Promise((r) => sock.on('connect', r));
  return state;
}

async function until(fn, ms) {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await sleep(25);
  return fn();
}

describe('timeouts', { concurrency: true }, () => {
  let server;
  before(async () => {
    server = await startServer(['--header-timeout', '2', '--body-timeout', '2', '--idle-timeout', '3']);
  });
  after(async () => { await server.stop(); });

  test('slow loris: 408 SB003 at the header deadline while others are served', async () => {
    const loris = await connect(server.port);
    const start = Date.now();
    loris.sock.write('GET /echo HTTP/1.1\r\n'); // the request line at once, then a byte a second
    const text = 'Host: x\r\nX-Slow: ' + 'z'.repeat(100);
    let i = 0;
    const drip = setInterval(() => {
      if (!loris.closedAt && i < text.length) loris.sock.write(text[i++]);
    }, 1000);
    // meanwhile: other clients, all served fast
    const latencies = [];
    while (!loris.closedAt && Date.now() - start < 5000) {
      const t = Date.now();
      const res = await request(server.port, { path: '/bench' });
      assert.equal(res.status, 200);
      latencies.push(Date.now() - t);
      await sleep(100);
    }
    clearInterval(drip);
    assert.ok(loris.closedAt, 'slow client closed');
    const elapsed = loris.closedAt - start;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `cut after ${elapsed} ms`);
    const [r] = parseResponses(loris.data);
    assert.equal(r.status, 408);
    assertErrorShape(assert, r.body, 'SB003');
    assert.equal(r.headers.connection, 'close');
    assert.ok(r.headers['x-request-id']);
    // a server blocked by the loris would answer nothing until the deadline
    // cut it; the bound is that deadline, not a latency target (the machine
    // may be busy)
    assert.ok(latencies.length >= 10, `${latencies.length} requests served meanwhile`);
    assert.ok(Math.max(...latencies) < 1900, `slowest ${Math.max(...latencies)} ms`);
  });

  test('slow loris on a kept-alive connection: the deadline counts from its first byte', async () => {
    const c = await connect(server.port);
    c.sock.write('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => parseResponses(c.data).length === 1, 2000));
    await sleep(1500); // idle, within the idle timeout: no deadline yet
    const dripStart = Date.now();
    c.sock.write('G');
    const drip = setInterval(() => { if (!c.closedAt) c.sock.write('E'); }, 700);
    await until(() => c.closedAt, 5000);
    clearInterval(drip);
    assert.ok(c.closedAt, 'closed');
    const sinceDrip = c.closedAt - dripStart;
    assert.ok(sinceDrip >= 1700 && sinceDrip < 3200, `cut ${sinceDrip} ms after the first byte`);
    const responses = parseResponses(c.data);
    assert.equal(responses.length, 2);
    assert.equal(responses[1].status, 408);
  });

  test('slow body: 408 SB004 at the body deadline', async () => {
    const c = await connect(server.port);
    const start = Date.now();
    c.sock.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    const drip = setInterval(() => { if (!c.closedAt) c.sock.write('x'); }, 500);
    await until(() => c.closedAt, 5000);
    clearInterval(drip);
    const elapsed = c.closedAt - start;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `cut after ${elapsed} ms`);
    const [r] = parseResponses(c.data);
    assert.equal(r.status, 408);
    assertErrorShape(assert, r.body, 'SB004');
  });

  test('an idle keep-alive connection is closed silently at the idle timeout', async () => {
    const c = await connect(server.port);
    c.sock.write('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await until(() => parseResponses(c.data).length === 1, 2000));
    const answeredAt = Date.now();
    const size = c.data.length;
    await until(() => c.closedAt, 6000);
    assert.ok(c.closedAt, 'closed');
    const idle = c.closedAt - answeredAt;
    assert.ok(idle >= 2500 && idle < 5000, `closed after ${idle} ms idle`);
    assert.equal(c.data.length, size, 'nothing sent on an idle close');
  });

  test('a request line sent a byte a second: 408 at the header deadline', async () => {
    const c = await connect(server.port);
    const start = Date.now();
    const text = 'GET /echo/slow-request-line HTTP/1.1\r\n';
    let i = 0;
    const drip = setInterval(() => { if (!c.closedAt && i < text.length) c.sock.write(text[i++]); }, 1000);
    await until(() => c.closedAt, 5000);
    clearInterval(drip);
    const elapsed = c.closedAt - start;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `cut after ${elapsed} ms`);
    const [r] = parseResponses(c.data);
    assert.equal(r.status, 408);
    assertErrorShape(assert, r.body, 'SB003');
  });

  test('a connection that never sends a byte is closed silently', async () => {
    const c = await connect(server.port);
    const start = Date.now();
    await until(() => c.closedAt, 5000);
    const elapsed = c.closedAt - start;
    assert.ok(elapsed >= 1900 && elapsed < 3500, `closed after ${elapsed} ms`);
    assert.equal(c.data.length, 0);
  });

  test('a request in its handler (deferred) is not cut by the header deadline', async () => {
    const t = Date.now();
    const res = await request(server.port, { path: '/defer?ms=2600' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { deferred: true, ms: 2600 });
    assert.ok(Date.now() - t >= 2500);
  });
});
