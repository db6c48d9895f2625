// Deferred responses (completed later by another thread) and graceful
// shutdown: deferred requests hold no worker thread; a stop lets requests in
// flight finish, and answers 503 to those still waiting at its deadline.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { assertErrorShape, rawExchange, request, sleep, startServer } from './helpers.mjs';

// Wait until the server has deferred the request with this id.
async function deferred(server, id) {
  for (let i = 0; i < 500; i++) {
    if (server.stderr.includes(`deferred ${id} `)) return;
    await sleep(10);
  }
  throw new Error(`request ${id} was never deferred`);
}

describe('deferred responses and shutdown', { concurrency: true }, () => {
  test('deferred requests do not hold the worker thread', async () => {
    const server = await startServer(['--threads', '1']);
    try {
      const t = Date.now();
      const waiting = Array.from({ length: 50 }, () => request(server.port, { path: '/defer?ms=700' }));
      await sleep(100);
      const quick = Date.now();
      const res = await request(server.port, { path: '/bench' });
      assert.equal(res.status, 200);
      assert.ok(Date.now() - quick < 500, 'served while 50 requests wait');
      const all = await Promise.all(waiting);
      assert.ok(all.every((r) => r.status === 200 && r.json().deferred === true));
      assert.ok(Date.now() - t < 3000, `50 deferred requests took ${Date.now() - t} ms`);
      for (const r of all) assert.ok(r.headers['x-request-id']);
    } finally {
      await server.stop();
    }
  });

  test('a deferred request on a kept-alive connection leaves it usable', async () => {
    const server = await startServer([]);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 5; i++) {
        const r = await request(server.port, { path: `/defer?ms=${i * 5}`, agent });
        assert.equal(r.status, 200);
        const e = await request(server.port, { path: '/echo', agent });
        assert.equal(e.status, 200);
      }
      agent.destroy();
    } finally {
      await server.stop();
    }
  });

  test('graceful stop: an in-flight deferred request completes, then the server exits', async () => {
    const server = await startServer(['--access-log']);
    const pending = request(server.port, { path: '/defer?ms=1500', headers: { 'x-request-id': 'graceful-1' } });
    await deferred(server, 'graceful-1');
    const stopped = server.stop();
    await sleep(300);
    // new connections are refused once stopping
    const refused = await rawExchange(server.port, 'GET /echo HTTP/1.1\r\nHost: x\r\n\r\n', { timeout: 1000 });
    assert.ok(refused.error === 'ECONNREFUSED' || refused.error === 'ECONNRESET', `got ${refused.error}`);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { deferred: true, ms: 1500 });
    const exit = await stopped;
    assert.equal(exit.code, 0);
    assert.match(exit.stderr, /stopped: 0 cut/);
  });

  test('a request on a kept-alive connection during the stop is answered with Connection: close', async () => {
    const server = await startServer([]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await request(server.port, { agent })).status, 200);
    const pending = request(server.port, { path: '/defer?ms=1500', headers: { 'x-request-id': 'graceful-2' } });
    await deferred(server, 'graceful-2');
    const stopped = server.stop();
    await sleep(200);
    const res = await request(server.port, { agent });
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal((await pending).status, 200);
    agent.destroy();
    assert.equal((await stopped).code, 0);
  });

  test('stop deadline: a request still waiting is answered 503 SB011', async () => {
    const server = await startServer(['--shutdown-timeout', '1']);
    const pending = request(server.port, { path: '/defer?ms=10000', headers: { 'x-request-id': 'cut-1' } });
    await deferred(server, 'cut-1');
    const t = Date.now();
    const stopped = server.stop();
    const res = await pending;
    assert.equal(res.status, 503);
    assertErrorShape(assert, res.body, 'SB011');
    assert.equal(res.headers['retry-after'], '1');
    const exit = await stopped;
    assert.ok(Date.now() - t < 3000, `stopped in ${Date.now() - t} ms`);
    assert.equal(exit.code, 0);
    assert.match(exit.stderr, /stopped: 1 cut/);
  });
});
