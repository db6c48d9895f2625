// GET /_/audit: the audit trail read through the API by the roles the
// spec's security block allows (examples/shop.spec: `audit: admin`) and by
// the service key; everyone else is refused, and the refusal is itself
// audited. Filters and paging as the CLI's `audit log`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, api, bin, root } from './helpers.mjs';

const shop = join(root, 'examples', 'shop.spec');

test('admins and the service key read the audit trail; others are refused', async () => {
  const server = await startServer(shop);
  try {
    const keys = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' }).stdout;
    const service = { Authorization: `Bearer ${keys.match(/^service\s+(\S+)/m)[1]}` };
    const post = async (path, body, headers = {}) => {
      const r = await fetch(`${server.url}${path}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
      return { status: r.status, json: await r.json() };
    };
    const audit = async (query = '', headers = service) => {
      const r = await fetch(`${server.url}/_/audit${query}`, { headers });
      const text = await r.text();
      return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : null };
    };

    // a customer and an admin (promoted by the service key)
    let r = await post('/auth/v1/signup', { email: 'cus@example.com', password: 'correct horse battery', data: { name: 'Cus' } });
    assert.equal(r.status, 200);
    const customer = { Authorization: `Bearer ${r.json.access_token}` };
    r = await post('/auth/v1/signup', { email: 'adm@example.com', password: 'correct horse battery', data: { name: 'Adm' } });
    assert.equal(r.status, 200);
    const adminId = r.json.user.id;
    let w = await api(server, 'PATCH', `/user?id=eq.${adminId}`, { body: { role: 'admin' }, headers: service });
    assert.equal(w.status, 204, w.text);
    r = await post('/auth/v1/token?grant_type=password', { email: 'adm@example.com', password: 'correct horse battery' });
    assert.equal(r.status, 200);
    const admin = { Authorization: `Bearer ${r.json.access_token}` };
    for (const name of ['Pen', 'Ink', 'Pad']) {
      w = await api(server, 'POST', '/product', { body: { name, price: 2, category: 'office' }, headers: admin });
      assert.equal(w.status, 201, w.text);
    }

    // the admin reads every entry, in order, pii values hashed
    let a = await audit('', admin);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type'), /^application\/json/);
    assert.equal(a.headers.get('cache-control'), 'no-store');
    assert.deepEqual(a.json.map((e) => e.op), ['migration', 'signup', 'signup', 'update', 'signin', 'create', 'create', 'create']);
    assert.deepEqual(a.json.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(a.json[5].collection, 'product');
    assert.equal(a.json[5].actor_role, 'admin');
    assert.equal(a.json[5].changes.name.new, 'Pen');
    assert.equal(a.json[1].prev_hash, a.json[0].hash, 'entries are chained');
    assert.ok(!JSON.stringify(a.json).includes('@example.com'), 'pii values are never in clear');

    // the same entries as the CLI prints
    const log = spawnSync(bin, ['audit', 'log', '--db', server.db, '--json'], { encoding: 'utf8' });
    assert.deepEqual(log.stdout.trim().split('\n').map((l) => JSON.parse(l)), a.json);

    // filters and paging
    a = await audit('?collection=product&op=create');
    assert.deepEqual(a.json.map((e) => e.changes.name.new), ['Pen', 'Ink', 'Pad']);
    a = await audit(`?actor=${adminId}&limit=3`);
    assert.deepEqual(a.json.map((e) => e.op), ['signup', 'signin', 'create']);
    const next = a.headers.get('link');
    assert.match(next, /^<\/_\/audit\?actor=\d+&limit=3&after=6>; rel="next"$/);
    a = await audit(next.slice(next.indexOf('?'), next.indexOf('>')));
    assert.deepEqual(a.json.map((e) => e.seq), [7, 8]);
    assert.equal(a.headers.get('link'), null, 'the last page has no next');
    a = await audit('?since=2000-01-01T00:00:00Z&after=7');
    assert.deepEqual(a.json.map((e) => e.seq), [8]);
    a = await audit('?since=2999-01-01T00:00:00Z');
    assert.deepEqual(a.json, []);

    // bad parameters are a 400, other methods a 405
    for (const q of ['?limit=0', '?limit=1001', '?after=-1', '?after=x', '?select=*', '?limit=%zz']) {
      a = await audit(q);
      assert.equal(a.status, 400, q);
      assert.equal(a.json.code, 'PGRST100', q);
    }
    r = await post('/_/audit', {}, service);
    assert.equal(r.status, 405);

    // nobody else: anonymous callers need to sign in, customers are refused
    a = await audit('', {});
    assert.equal(a.status, 401);
    a = await audit('', { Authorization: 'Bearer not.a.token' });
    assert.equal(a.status, 401);
    a = await audit('', customer);
    assert.equal(a.status, 403);
    assert.equal(a.json.code, '42501');

    // and the refusal is in the trail (appended after the answer)
    let denied = [];
    for (let i = 0; i < 200 && denied.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      denied = (await audit('?op=rule_denied')).json;
    }
    assert.equal(denied.length, 1);
    assert.equal(denied[0].actor_role, 'customer');
    assert.equal(denied[0].changes.method, 'GET');

    const v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await server.stop();
  }
});
