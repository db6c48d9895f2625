// Accounts and rules through @supabase/supabase-js on examples/shop.spec:
// sign-up, sign-in, refresh, update, sign-out; what each caller may see
// and change (own rows only, no role escalation, anonymous callers see
// public data); the anon and service keys; hostile tokens; brute force.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createClient } from '@supabase/supabase-js';
import { startServer, api, bin, root } from './helpers.mjs';

let server;
let anonKey;
let serviceKey;
const shop = join(root, 'examples', 'shop.spec');
const opts = { auth: { persistSession: false, autoRefreshToken: false } };

function client(key = anonKey) {
  return createClient(server.url, key, opts);
}

async function account(email, password = 'correct horse battery') {
  const c = client();
  const { data, error } = await c.auth.signUp({ email, password, options: { data: { name: email.split('@')[0] } } });
  assert.equal(error, null, JSON.stringify(error));
  assert.ok(data.session?.access_token);
  return { c, user: data.user, session: data.session };
}

before(async () => {
  server = await startServer(shop);
  const keys = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' });
  assert.equal(keys.status, 0, keys.stderr);
  anonKey = keys.stdout.match(/^anon\s+(\S+)/m)[1];
  serviceKey = keys.stdout.match(/^service\s+(\S+)/m)[1];
  const admin = client(serviceKey);
  const { error } = await admin.from('product').insert([
    { name: 'Mug', price: 9.5, stock: 10, category: 'kitchen' },
    { name: 'Lamp', price: 25, stock: 3, category: 'lighting' },
  ]);
  assert.equal(error, null, JSON.stringify(error));
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.stderr());
});

test('sign up, sign in, get and update the user, refresh, sign out', async () => {
  const { c, user } = await account('ann@example.com');
  assert.equal(user.email, 'ann@example.com');
  assert.equal(user.user_metadata.name, 'ann');
  const signIn = await c.auth.signInWithPassword({ email: 'ANN@example.com', password: 'correct horse battery' });
  assert.equal(signIn.error, null);
  const session = signIn.data.session;
  assert.equal(session.token_type, 'bearer');
  const authed = createClient(server.url, anonKey, { ...opts, global: { headers: { Authorization: `Bearer ${session.access_token}` } } });
  const got = await authed.auth.getUser(session.access_token);
  assert.equal(got.error, null);
  assert.equal(got.data.user.id, user.id);
  const updated = await c.auth.updateUser({ data: { name: 'Ann B' } });
  assert.equal(updated.error, null, JSON.stringify(updated.error));
  assert.equal(updated.data.user.user_metadata.name, 'Ann B');
  const refreshed = await c.auth.refreshSession({ refresh_token: session.refresh_token });
  assert.equal(refreshed.error, null, JSON.stringify(refreshed.error));
  assert.notEqual(refreshed.data.session.refresh_token, session.refresh_token, 'refresh tokens rotate');
  // a rotated token used again revokes the session
  const reused = await client().auth.refreshSession({ refresh_token: session.refresh_token });
  assert.ok(reused.error);
  const after = await client().auth.refreshSession({ refresh_token: refreshed.data.session.refresh_token });
  assert.ok(after.error, 'the whole session was revoked by the reuse');
  const out = await c.auth.signOut();
  assert.equal(out.error, null);
  const r = await api(server, 'GET', '/user?select=id', { headers: { Authorization: `Bearer ${refreshed.data.session.access_token}` } });
  assert.equal(r.status, 401, 'a token of a revoked session is refused at once');
});

test('wrong passwords and unknown accounts look the same; weak passwords refused', async () => {
  const c = client();
  let r = await c.auth.signInWithPassword({ email: 'ann@example.com', password: 'nope nope nope' });
  assert.equal(r.error.status, 400);
  assert.equal(r.error.code, 'invalid_credentials');
  r = await c.auth.signInWithPassword({ email: 'nobody@example.com', password: 'nope nope nope' });
  assert.equal(r.error.code, 'invalid_credentials');
  r = await c.auth.signUp({ email: 'weak@example.com', password: 'short' });
  assert.ok(r.error);
  assert.equal(r.error.status, 422);
  r = await c.auth.signUp({ email: 'ann@example.com', password: 'another long one' });
  assert.equal(r.error.status, 422, 'an email is registered once');
});

test('a customer sees and changes only their own rows', async () => {
  const bob = await account('bob@example.com');
  const cy = await account('cy@example.com');
  const bobId = Number(bob.user.id);
  let r = await bob.c.from('order').insert({ product: 1, buyer: bobId, qty: 2 }).select().single();
  assert.equal(r.error, null, JSON.stringify(r.error));
  const orderId = r.data.id;
  r = await bob.c.from('order').insert({ product: 1, qty: 1 }).select('buyer').single();
  assert.equal(r.error, null);
  assert.equal(r.data.buyer, bobId, 'buyer defaults to auth.id');
  r = await cy.c.from('order').select('*');
  assert.deepEqual(r.data, [], 'another customer sees none of them');
  r = await cy.c.from('order').select('*').eq('id', orderId);
  assert.deepEqual(r.data, [], 'not even by id (BOLA)');
  r = await cy.c.from('order').insert({ product: 1, buyer: bobId, qty: 1 });
  assert.equal(r.status, 403, 'nor order on his behalf');
  r = await bob.c.from('order').select('id', { count: 'exact' });
  assert.equal(r.count, 2);
  r = await bob.c.from('user').select('id,email,role');
  assert.deepEqual(r.data, [{ id: bobId, email: 'bob@example.com', role: 'customer' }]);
  r = await bob.c.from('user').update({ role: 'admin' }).eq('id', bobId);
  assert.equal(r.status, 403, 'no mass assignment of the role');
  r = await bob.c.auth.updateUser({ data: { role: 'admin' } });
  assert.ok(r.error, 'not through the auth endpoint either');
  r = await bob.c.from('user').select('role').eq('id', bobId).single();
  assert.equal(r.data.role, 'customer');
  r = await bob.c.from('product').insert({ name: 'x', price: 1, category: 'x' });
  assert.equal(r.status, 403, 'only admins add products');
});

test('anonymous callers see public data only; the service key bypasses rules', async () => {
  const anon = client();
  let r = await anon.from('product').select('name').order('id');
  assert.deepEqual(r.data.map((x) => x.name), ['Mug', 'Lamp']);
  r = await anon.from('order').select('*');
  assert.deepEqual(r.data, []);
  r = await anon.from('user').select('*');
  assert.deepEqual(r.data, []);
  const admin = client(serviceKey);
  r = await admin.from('order').select('id', { count: 'exact' });
  assert.ok(r.count >= 2);
  r = await admin.from('user').select('email,password');
  assert.equal(r.status, 400, 'password fields are never readable, even with the service key');
});

function sign(header, payload, secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64(header)}.${b64(payload)}`;
  const sig = secret === null ? '' : createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${sig}`;
}

test('hostile tokens are refused with 401', async () => {
  const { session } = await account('dee@example.com');
  const [h, p] = session.access_token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const attempts = {
    'alg none': sign({ alg: 'none', typ: 'JWT' }, { ...claims, role: 'service_role' }, null),
    'tampered payload': `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${session.access_token.split('.')[2]}`,
    'wrong secret': sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, role: 'service_role' }, 'guessed secret guessed secret 123'),
    expired: sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: 1000 }, 'x'.repeat(40)),
    'RS256 header on an HMAC signature (algorithm confusion)': (() => {
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${p}`;
      return `${head}.${session.access_token.split('.')[2]}`;
    })(),
    'HS512': sign({ alg: 'HS512', typ: 'JWT' }, claims, 'x'.repeat(40)),
    garbage: 'a.b.c',
  };
  for (const [name, token] of Object.entries(attempts)) {
    const r = await api(server, 'GET', '/order?select=id', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401, name);
    assert.match(r.json.code, /^PGRST30/, name);
  }
});

test('a token of a deleted account stops working', async () => {
  const eve = await account('eve@example.com');
  const admin = client(serviceKey);
  const { error } = await admin.from('user').delete().eq('id', Number(eve.user.id));
  assert.equal(error, null);
  const r = await api(server, 'GET', '/order?select=id', { headers: { Authorization: `Bearer ${eve.session.access_token}` } });
  assert.equal(r.status, 401);
});

test('failed sign-ins slow down and then lock out with 429', async () => {
  await account('fay@example.com');
  const attempt = (password) => fetch(`${server.url}/auth/v1/token?grant_type=password`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'fay@example.com', password }) });
  const statuses = [];
  for (let i = 0; i < 12; i++)
    statuses.push((await attempt(`wrong guess ${i}`)).status);
  assert.equal(statuses[0], 400);
  assert.ok(statuses.includes(429), `throttled: ${statuses}`);
  const raw = await attempt('correct horse battery');
  assert.equal(raw.status, 429, 'even the right password waits');
  assert.ok(Number(raw.headers.get('retry-after')) > 0);
});

test('with SPECBASE_JWT_AUD, tokens for another audience are refused', async () => {
  const other = await startServer(shop, { env: { SPECBASE_JWT_AUD: 'shop-app' } });
  try {
    const secret = readFileSync(`${other.db}.jwt-secret`, 'utf8').trim();
    const res = await fetch(`${other.url}/auth/v1/signup`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'gus@example.com', password: 'correct horse battery', data: { name: 'Gus' } }) });
    const s = await res.json();
    const claims = JSON.parse(Buffer.from(s.access_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.aud, 'shop-app');
    let r = await api(other, 'GET', '/order?select=id', { headers: { Authorization: `Bearer ${s.access_token}` } });
    assert.equal(r.status, 200);
    const wrong = sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'another-app' }, secret);
    r = await api(other, 'GET', '/order?select=id', { headers: { Authorization: `Bearer ${wrong}` } });
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'PGRST303');
  } finally {
    await other.stop();
  }
});
