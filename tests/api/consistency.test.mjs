// Read-your-writes across requests: once a write has been answered, every
// later read sees it, whichever worker thread serves the read, even while
// other clients keep reading (reads may reuse a snapshot an earlier request
// on the same thread opened, but never one older than an answered write).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from './helpers.mjs';

let server;

before(async () => {
  server = await startServer('records.spec', { args: ['--threads', '2'] });
});

after(async () => {
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `server exit ${code} ${signal}: ${server.stderr()}`);
});

test('a read after an answered write sees it, under concurrent reads', async () => {
  // readers on other connections keep both workers' snapshots busy
  let reading = true;
  let background = 0;
  const readers = Array.from({ length: 4 }, async () => {
    while (reading) {
      const r = await api(server, 'GET', '/product?select=id&limit=1');
      assert.equal(r.status, 200);
      background++;
    }
  });
  try {
    const rounds = 60;
    for (let i = 0; i < rounds; i++) {
      const created = await api(server, 'POST', '/product', {
        body: { name: `item ${i}`, price: 1, category: 'c' },
        headers: { Prefer: 'return=representation' },
      });
      assert.equal(created.status, 201);
      const id = created.json[0].id;

      const got = await api(server, 'GET', `/product?id=eq.${id}&select=id,name`);
      assert.deepEqual(got.json, [{ id, name: `item ${i}` }], `round ${i}: the new row`);

      const counted = await api(server, 'GET', '/product?select=id&limit=1', {
        headers: { Prefer: 'count=exact' },
      });
      assert.equal(counted.headers.get('content-range').split('/')[1], String(i + 1), `round ${i}: the count`);

      const patched = await api(server, 'PATCH', `/product?id=eq.${id}`, { body: { name: `renamed ${i}` } });
      assert.equal(patched.status, 204);
      const renamed = await api(server, 'GET', `/product?id=eq.${id}&select=name`);
      assert.deepEqual(renamed.json, [{ name: `renamed ${i}` }], `round ${i}: the update`);

      if (i % 2 === 1) {
        const deleted = await api(server, 'DELETE', `/product?id=eq.${id}`);
        assert.equal(deleted.status, 204);
        const gone = await api(server, 'GET', `/product?id=eq.${id}`);
        assert.deepEqual(gone.json, [], `round ${i}: the delete`);
        // keep the count simple: put one back
        const again = await api(server, 'POST', '/product', { body: { name: `again ${i}`, price: 1, category: 'c' } });
        assert.equal(again.status, 201);
        const found = await api(server, 'GET', `/product?name=eq.again ${i}&select=name`);
        assert.deepEqual(found.json, [{ name: `again ${i}` }], `round ${i}: the row put back`);
      }
    }
  } finally {
    reading = false;
    await Promise.all(readers);
  }
  assert.ok(background > 0, 'the background readers ran');
});
