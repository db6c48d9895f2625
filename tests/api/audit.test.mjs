// The audit trail as an operator meets it: every write, sign-up and sign-in
// (also failed) is recorded in the same transaction, pii values as keyed
// hashes, the chain verifies, and tampering with the database is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, api, bin, root } from './helpers.mjs';

test('writes and account events are audited and the chain verifies', async () => {
  const shop = join(root, 'examples', 'shop.spec');
  const server = await startServer(shop);
  try {
    const keys = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' }).stdout;
    const service = keys.match(/^service\s+(\S+)/m)[1];
    const post = (path, body, headers = {}) => fetch(`${server.url}${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    let r = await post('/auth/v1/signup', { email: 'audit@example.com', password: 'correct horse battery', data: { name: 'Aud' } });
    assert.equal(r.status, 200);
    const session = await r.json();
    r = await post('/auth/v1/token?grant_type=password', { email: 'audit@example.com', password: 'wrong password!' });
    assert.equal(r.status, 400);
    r = await api(server, 'POST', '/product', { body: { name: 'Pen', price: 2, category: 'office' }, headers: { Authorization: `Bearer ${service}` } });
    assert.equal(r.status, 201);
    r = await api(server, 'POST', '/order', { body: { product: 1, qty: 2 }, headers: { Authorization: `Bearer ${session.access_token}` } });
    assert.equal(r.status, 201);
    r = await api(server, 'POST', '/order', { body: { product: 1, qty: 2 }, headers: { Authorization: `Bearer ${session.access_token}`, Prefer: 'tx=rollback' } });
    assert.equal(r.status, 201);

    let v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^ok: 5 entries/m, 'the rolled-back write left no entry');
    const log = spawnSync(bin, ['audit', 'log', '--db', server.db, '--json'], { encoding: 'utf8' });
    assert.equal(log.status, 0, log.stderr);
    const entries = log.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(entries.map((e) => e.op), ['migration', 'signup', 'signin_failed', 'create', 'create']);
    // serve applied the spec to the new database: the first entry
    assert.equal(entries[0].actor_role, 'operator');
    assert.equal(entries[0].changes.first, true);
    assert.match(entries[0].changes.spec, /shop\.spec$/);
    assert.match(entries[0].changes.hash, /^[0-9a-f]{64}$/);
    assert.ok(entries[0].changes.steps.some((s) => /product/.test(s)), JSON.stringify(entries[0].changes));
    assert.equal(entries[4].collection, 'order');
    assert.equal(entries[4].actor_sub, session.user.id);
    assert.equal(entries[4].actor_role, 'customer');
    assert.ok(!log.stdout.includes('audit@example.com'), 'pii values are never in clear');
    assert.match(log.stdout, /hmac:[0-9a-f]{64}/);

    // tampering: change a recorded value behind the server's back
    const t = spawnSync('sqlite3', [server.db, "UPDATE _sb_audit SET changes = '{}' WHERE seq = 3"], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 1);
    assert.match(v.stdout + v.stderr, /modified: seq 3/);
  } finally {
    await server.stop();
  }
});

test('rule denials are audited, and nothing else is written', async () => {
  const shop = join(root, 'examples', 'shop.spec');
  const server = await startServer(shop);
  try {
    const post = (path, body, headers = {}) => fetch(`${server.url}${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    let r = await post('/auth/v1/signup', { email: 'denied@example.com', password: 'correct horse battery', data: { name: 'Den' } });
    assert.equal(r.status, 200);
    const session = await r.json();
    // customers may not create products: the rule says admins only
    r = await api(server, 'POST', '/product', { body: { name: 'Pen', price: 2, category: 'office' }, headers: { Authorization: `Bearer ${session.access_token}` } });
    assert.equal(r.status, 403);
    assert.equal(r.json.code, '42501');
    let entries = [];
    for (let i = 0; i < 200 && !entries.some((e) => e.op === 'rule_denied'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25)); // appended after the answer
      const log = spawnSync(bin, ['audit', 'log', '--db', server.db, '--json'], { encoding: 'utf8' });
      assert.equal(log.status, 0, log.stderr);
      entries = log.stdout.trim().split('\n').map((l) => JSON.parse(l));
    }
    assert.deepEqual(entries.map((e) => e.op), ['migration', 'signup', 'rule_denied']);
    const denied = entries[2];
    assert.equal(denied.collection, 'product');
    assert.equal(denied.actor_sub, session.user.id);
    assert.equal(denied.actor_role, 'customer');
    assert.equal(denied.changes.method, 'POST');
    assert.match(denied.changes.message, /row-level security/);
    const rows = spawnSync('sqlite3', [server.db, 'SELECT count(*) FROM product'], { encoding: 'utf8' });
    assert.equal(rows.stdout.trim(), '0');
    const v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await server.stop();
  }
});
