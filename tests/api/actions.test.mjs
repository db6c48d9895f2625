// The spec's actions at /rest/v1/rpc/<name> on examples/shop.spec, through
// supabase-js's .rpc() and plain fetch: checkout, cancel_order, transfer,
// deposit and the read-only low_stock; bad calls (unknown action, missing,
// wrong and extra arguments, callers without permission) refused with
// nothing written; and two runs under contention: a flash sale (100 units,
// 2,000 checkouts from 64 connections: exactly 100 orders) and concurrent
// transfers between three accounts (the total is conserved, no balance
// ever negative).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { startServer, api, bin, root } from './helpers.mjs';

let server;
let anonKey;
let serviceKey;
let admin;
const shop = join(root, 'examples', 'shop.spec');
const opts = { auth: { persistSession: false, autoRefreshToken: false } };
const customers = [];

function client(key = anonKey) {
  return createClient(server.url, key, opts);
}

async function customer(email) {
  const c = client();
  const { data, error } = await c.auth.signUp({ email, password: 'correct horse battery' });
  assert.equal(error, null, JSON.stringify(error));
  return { c, id: Number(data.user.id), token: data.session.access_token };
}

async function product(fields) {
  const { data, error } = await admin.from('product').insert({ price: 10, category: 'misc', ...fields }).select().single();
  assert.equal(error, null, JSON.stringify(error));
  return data;
}

async function stockOf(id) {
  const { data, error } = await admin.from('product').select('stock').eq('id', id).single();
  assert.equal(error, null, JSON.stringify(error));
  return data.stock;
}

async function countOrders(productId) {
  const { count, error } = await admin.from('order').select('id', { count: 'exact', head: true }).eq('product', productId);
  assert.equal(error, null, JSON.stringify(error));
  return count;
}

// POST /rest/v1/rpc/name with the caller's token
function rpc(name, args, token) {
  return api(server, 'POST', `/rpc/${name}`, {
    body: args,
    headers: { apikey: anonKey, Authorization: `Bearer ${token ?? anonKey}` },
  });
}

before(async () => {
  server = await startServer(shop);
  const keys = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' });
  assert.equal(keys.status, 0, keys.stderr);
  anonKey = keys.stdout.match(/^anon\s+(\S+)/m)[1];
  serviceKey = keys.stdout.match(/^service\s+(\S+)/m)[1];
  admin = client(serviceKey);
  for (let i = 0; i < 6; i++)
    customers.push(await customer(`buyer${i}@example.com`));
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.stderr());
});

test('checkout takes the stock and places the order', async () => {
  const mug = await product({ name: 'Mug', price: 9.5, stock: 5 });
  const ann = customers[0];
  const { data, error, status } = await ann.c.rpc('checkout', { product_id: mug.id, quantity: 2 });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(status, 200);
  assert.equal(data.total, 19);
  assert.equal(data.order.product, mug.id);
  assert.equal(data.order.buyer, ann.id);
  assert.equal(data.order.qty, 2);
  assert.equal(data.order.status, 'placed');
  assert.equal(await stockOf(mug.id), 3);
  const mine = await ann.c.from('order').select('id,qty,status').eq('product', mug.id);
  assert.deepEqual(mine.data, [{ id: data.order.id, qty: 2, status: 'placed' }]);
});

test('sold out: 409 and nothing written', async () => {
  const lamp = await product({ name: 'Lamp', price: 25, stock: 1 });
  const bob = customers[1];
  const r = await bob.c.rpc('checkout', { product_id: lamp.id, quantity: 2 });
  assert.equal(r.status, 409);
  assert.equal(r.error.code, 'P0001');
  assert.equal(r.error.message, 'sold out');
  assert.equal(await stockOf(lamp.id), 1);
  assert.equal(await countOrders(lamp.id), 0);
  const missing = await bob.c.rpc('checkout', { product_id: 999999, quantity: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.error.message, 'no such product');
});

test('cancel_order restocks once; only the buyer may cancel', async () => {
  const pen = await product({ name: 'Pen', price: 1.25, stock: 4 });
  const [ann, bob] = customers;
  const placed = await ann.c.rpc('checkout', { product_id: pen.id, quantity: 3 });
  assert.equal(placed.error, null, JSON.stringify(placed.error));
  assert.equal(placed.data.total, 3.75);
  assert.equal(await stockOf(pen.id), 1);
  const other = await bob.c.rpc('cancel_order', { order_id: placed.data.order.id });
  assert.equal(other.status, 403);
  assert.equal(other.error.message, 'not your order');
  const done = await ann.c.rpc('cancel_order', { order_id: placed.data.order.id });
  assert.equal(done.error, null, JSON.stringify(done.error));
  assert.deepEqual(done.data, { order: placed.data.order.id, status: 'cancelled' });
  assert.equal(await stockOf(pen.id), 4);
  const again = await ann.c.rpc('cancel_order', { order_id: placed.data.order.id });
  assert.equal(again.status, 409);
  assert.equal(again.error.message, 'order already cancelled');
  assert.equal(await stockOf(pen.id), 4, 'a refused cancel restocks nothing');
  const order = await ann.c.from('order').select('status').eq('id', placed.data.order.id).single();
  assert.equal(order.data.status, 'cancelled');
});

async function accountFor(user) {
  const { data, error } = await admin.from('account').insert({ owner: user.id }).select().single();
  assert.equal(error, null, JSON.stringify(error));
  return data;
}

async function balances(ids) {
  const { data, error } = await admin.from('account').select('id,balance').in('id', ids).order('id');
  assert.equal(error, null, JSON.stringify(error));
  return data.map((a) => a.balance);
}

test('deposit (service key only) and transfer conserve money and never go negative', async () => {
  const [ann, bob] = customers;
  const a = await accountFor(ann);
  const b = await accountFor(bob);
  const denied = await ann.c.rpc('deposit', { account_id: a.id, amount: 50 });
  assert.equal(denied.status, 403, 'no allow: only the service key');
  assert.equal(denied.error.code, '42501');
  const dep = await admin.rpc('deposit', { account_id: a.id, amount: 100.1 });
  assert.equal(dep.error, null, JSON.stringify(dep.error));
  assert.equal(dep.data.balance, 100.1);
  let r = await ann.c.rpc('transfer', { from: a.id, to: b.id, amount: 30.05 });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.deepEqual(r.data, { from: a.id, to: b.id, amount: 30.05 });
  assert.deepEqual(await balances([a.id, b.id]), [70.05, 30.05]);
  r = await ann.c.rpc('transfer', { from: a.id, to: b.id, amount: 70.06 });
  assert.equal(r.status, 409);
  assert.equal(r.error.message, 'insufficient funds');
  r = await bob.c.rpc('transfer', { from: a.id, to: b.id, amount: 1 });
  assert.equal(r.status, 403);
  assert.equal(r.error.message, 'not your account');
  r = await ann.c.rpc('transfer', { from: a.id, to: a.id, amount: 1 });
  assert.equal(r.status, 400);
  assert.equal(r.error.message, 'cannot transfer to the same account');
  r = await ann.c.rpc('transfer', { from: a.id, to: b.id, amount: -5 });
  assert.equal(r.status, 400);
  assert.equal(r.error.message, 'amount must be positive');
  // the debit ran, then the credit found no account: both rolled back
  r = await ann.c.rpc('transfer', { from: a.id, to: 999999, amount: 10 });
  assert.equal(r.status, 404);
  assert.equal(r.error.message, 'no such account');
  assert.deepEqual(await balances([a.id, b.id]), [70.05, 30.05]);
  // balance is readonly for clients: the action is the only way
  const direct = await ann.c.from('account').update({ balance: 1000 }).eq('id', a.id);
  assert.notEqual(direct.status, 200);
  assert.deepEqual(await balances([a.id, b.id]), [70.05, 30.05]);
});

test('low_stock is read-only: GET and POST, admins only', async () => {
  await product({ name: 'Rare', stock: 0 });
  const got = await admin.rpc('low_stock', { threshold: 0 }, { get: true });
  assert.equal(got.error, null, JSON.stringify(got.error));
  assert.ok(Array.isArray(got.data));
  assert.ok(got.data.some((p) => p.name === 'Rare'));
  assert.ok(got.data.every((p) => p.stock <= 0));
  const ids = got.data.map((p) => p.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'in id order');
  const byDefault = await admin.rpc('low_stock');
  assert.equal(byDefault.error, null, JSON.stringify(byDefault.error));
  assert.ok(byDefault.data.every((p) => p.stock <= 5), 'threshold defaults to 5');
  assert.ok(byDefault.data.length >= got.data.length);
  // the returned rows take select=, filters, limit and offset, like a table
  const shaped = await admin.rpc('low_stock', { threshold: 100 }, { get: true }).select('name,stock').eq('name', 'Rare');
  assert.equal(shaped.error, null, JSON.stringify(shaped.error));
  assert.deepEqual(shaped.data, [{ name: 'Rare', stock: 0 }]);
  const ordered = await admin.rpc('low_stock', { threshold: 100 }, { get: true })
    .select('name,stock').order('stock', { ascending: false }).order('name');
  assert.equal(ordered.error, null, JSON.stringify(ordered.error));
  const want = [...ordered.data].sort((a, b) => b.stock - a.stock || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  assert.deepEqual(ordered.data, want, 'order= sorts the rows, several keys');
  assert.ok(ordered.data.length >= 2);
  const top = await admin.rpc('low_stock', { threshold: 100 }).select('name,stock').order('stock', { ascending: false }).limit(1);
  assert.equal(top.error, null, JSON.stringify(top.error));
  assert.deepEqual(top.data, [ordered.data[0]], 'limit applies after the order');
  const badOrder = await admin.rpc('low_stock', {}, { get: true }).order('nope');
  assert.equal(badOrder.status, 400);
  const page = await admin.rpc('low_stock', { threshold: 100 }).select('id').limit(1);
  assert.equal(page.error, null, JSON.stringify(page.error));
  assert.equal(page.data.length, 1);
  const badColumn = await admin.rpc('low_stock', {}, { get: true }).eq('nope', 1);
  assert.equal(badColumn.status, 400);
  assert.equal(badColumn.error.code, '42703');
  const raw = await api(server, 'GET', '/rpc/low_stock?threshold=abc', {
    headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` },
  });
  assert.equal(raw.status, 400);
  assert.equal(raw.json.code, '22P02');
  const customerGet = await customers[0].c.rpc('low_stock', {}, { get: true });
  assert.equal(customerGet.status, 403);
  const writeByGet = await api(server, 'GET', '/rpc/checkout?product_id=1&quantity=1', {
    headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` },
  });
  assert.equal(writeByGet.status, 405, 'a writing action is never served on GET');
});

test('bad calls: unknown action, missing, wrong and extra arguments, no permission', async () => {
  const cup = await product({ name: 'Cup', stock: 10 });
  const ann = customers[0];
  let r = await ann.c.rpc('no_such_action', { a: 1 });
  assert.equal(r.status, 404);
  assert.equal(r.error.code, 'PGRST202');
  assert.match(r.error.message, /public\.no_such_action\(a\)/);
  r = await ann.c.rpc('checkout', { product_id: cup.id });
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '23502');
  assert.match(r.error.details, /quantity: is required/);
  r = await ann.c.rpc('checkout', { product_id: 'abc', quantity: 1 });
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '22P02');
  assert.match(r.error.details, /product_id/);
  r = await ann.c.rpc('checkout', { product_id: cup.id, quantity: 11 });
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '23514');
  assert.match(r.error.details, /quantity: must be at most 10/);
  r = await ann.c.rpc('checkout', { product_id: cup.id, quantity: 1, coupon: 'FREE' });
  assert.equal(r.status, 400);
  assert.match(r.error.details, /coupon: is not a parameter of checkout/);
  r = await ann.c.rpc('checkout', { product_id: cup.id, quantity: [1, 2] });
  assert.equal(r.status, 400);
  const raw = await rpc('checkout', '[1,2]', ann.token);
  assert.equal(raw.status, 400);
  assert.equal(raw.json.code, 'PGRST102');
  const bad = await rpc('checkout', '{"product_id": 1,', ann.token);
  assert.equal(bad.status, 400);
  // an anonymous caller is not a customer
  r = await client().rpc('checkout', { product_id: cup.id, quantity: 1 });
  assert.equal(r.status, 403);
  assert.equal(r.error.code, '42501');
  assert.equal(r.error.message, 'permission denied for function checkout');
  const forged = await rpc('checkout', { product_id: cup.id, quantity: 1 }, `${ann.token.slice(0, -4)}AAAA`);
  assert.equal(forged.status, 401, 'a token that fails verification');
  const byGet = await api(server, 'GET', `/rpc/checkout?product_id=${cup.id}&quantity=1`, {
    headers: { apikey: anonKey, Authorization: `Bearer ${ann.token}` },
  });
  assert.equal(byGet.status, 405);
  assert.equal(await stockOf(cup.id), 10, 'nothing was written by any of them');
  assert.equal(await countOrders(cup.id), 0);
});

// Run requests (functions returning promises) with at most `width` in
// flight, in batches; returns their results in order.
async function inBatches(requests, width) {
  const results = [];
  for (let i = 0; i < requests.length; i += width)
    results.push(...(await Promise.all(requests.slice(i, i + width).map((f) => f()))));
  return results;
}

async function flashSale(round) {
  const item = await product({ name: `Flash ${round}`, price: 5, stock: 100 });
  const requests = [];
  for (let i = 0; i < 2000; i++) {
    const who = customers[i % customers.length];
    requests.push(async () => {
      const res = await fetch(`${server.rest}/rpc/checkout`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', apikey: anonKey, Authorization: `Bearer ${who.token}` },
        body: JSON.stringify({ product_id: item.id, quantity: 1 }),
      });
      const body = await res.json();
      return { status: res.status, body };
    });
  }
  const results = await inBatches(requests, 64);
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 409);
  assert.equal(ok.length, 100, 'exactly the stock was sold');
  assert.equal(refused.length, 1900, `every other call is 409: ${JSON.stringify(results.find((r) => r.status !== 200 && r.status !== 409))}`);
  assert.ok(refused.every((r) => r.body.message === 'sold out'));
  assert.equal(new Set(ok.map((r) => r.body.order.id)).size, 100, 'one order per sale');
  assert.equal(await stockOf(item.id), 0);
  assert.equal(await countOrders(item.id), 100);
}

test('flash sale: 100 units, 2,000 checkouts from 64 connections', { timeout: 60000 }, async () => {
  const started = Date.now();
  await flashSale(1);
  await flashSale(2);
  assert.ok(Date.now() - started < 40000, 'within the time budget');
});

test('concurrent transfers between three accounts conserve the total', { timeout: 60000 }, async () => {
  const owners = customers.slice(3, 6);
  const accounts = [];
  for (const o of owners) {
    const acc = await accountFor(o);
    const dep = await admin.rpc('deposit', { account_id: acc.id, amount: 100 });
    assert.equal(dep.error, null, JSON.stringify(dep.error));
    accounts.push(acc.id);
  }
  const requests = [];
  for (let i = 0; i < 600; i++) {
    const from = i % 3;
    const to = (from + 1 + (i % 2)) % 3;
    const amount = ((i * 37) % 60) + 0.25;
    requests.push(async () => {
      const res = await fetch(`${server.rest}/rpc/transfer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', apikey: anonKey, Authorization: `Bearer ${owners[from].token}` },
        body: JSON.stringify({ from: accounts[from], to: accounts[to], amount }),
      });
      const body = await res.json();
      return { status: res.status, body };
    });
  }
  const results = await inBatches(requests, 48);
  for (const r of results)
    assert.ok(r.status === 200 || (r.status === 409 && r.body.message === 'insufficient funds'), JSON.stringify(r));
  assert.ok(results.some((r) => r.status === 200));
  const final = await balances(accounts);
  assert.ok(final.every((b) => b >= 0), `no negative balance: ${final}`);
  assert.equal(Math.round(final.reduce((s, b) => s + b, 0) * 100), 30000, `the total is conserved: ${final}`);
});

// tests/api/specs/actions.spec: rollback of earlier steps on a constraint
// failure, defaults, scalar and object results, delete, 204 without a result.
test('actions.spec: rollbacks, defaults, scalars, delete, no result', async () => {
  const other = await startServer('actions.spec');
  try {
    const keys = spawnSync(bin, ['keys', join(root, 'tests', 'api', 'specs', 'actions.spec'), '--db', other.db], { encoding: 'utf8' });
    assert.equal(keys.status, 0, keys.stderr);
    const anon = keys.stdout.match(/^anon\s+(\S+)/m)[1];
    const c = createClient(other.url, anon, opts);
    let r = await c.rpc('add', { name: 'apple', qty: 3, tags: ['red', 'fruit'] });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.data.name, 'apple');
    assert.equal(r.data.price, 2.5, 'the parameter default');
    assert.deepEqual(r.data.tags, ['red', 'fruit']);
    const apple = r.data.id;
    r = await c.rpc('add', { name: 'apple' });
    assert.equal(r.status, 409);
    assert.equal(r.error.code, '23505');
    assert.equal(r.error.details, 'Key (name) already exists.');
    r = await c.rpc('add', { name: 'pear', qty: -1 });
    assert.equal(r.status, 400);
    assert.equal(r.error.code, '23514', 'the field check applies inside actions');
    r = await c.rpc('add', { name: 'x'.repeat(21) });
    assert.equal(r.status, 400);
    r = await c.rpc('add', { name: 'plum', tags: ['a', 'b', 'c', 'd'] });
    assert.equal(r.status, 400, 'an oversized array');
    assert.match(r.error.details, /tags: must have at most 3 elements/);
    const notes = await c.from('note').select('id');
    assert.equal(notes.data.length, 1, 'every refused add took its note back');
    r = await c.rpc('take', { item_id: apple, n: 3 });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.deepEqual(r.data, { left: 0, name: 'apple', half: 1.25, sold_out: true });
    r = await c.rpc('take', { item_id: apple, n: 1 });
    assert.equal(r.status, 400, 'qty >= 0 holds');
    r = await c.rpc('take', { item_id: 999, n: 1 });
    assert.equal(r.status, 404);
    assert.equal(r.error.message, 'no such item');
    r = await c.rpc('double');
    assert.equal(r.data, 42);
    r = await c.rpc('double', { x: 5 }, { get: true });
    assert.equal(r.data, 10);
    r = await c.rpc('double', { x: 5 }).select('id');
    assert.equal(r.status, 400, 'select= only for actions returning rows');
    r = await c.rpc('check_positive', { x: 0 });
    assert.equal(r.status, 422);
    assert.equal(r.error.message, 'x must be positive');
    const ok = await api(other, 'POST', '/rpc/check_positive', { body: { x: 1 }, headers: { apikey: anon } });
    assert.equal(ok.status, 204);
    assert.equal(ok.text, '');
    r = await c.rpc('tagged', { tag: 'fruit' }, { get: true });
    assert.deepEqual(r.data.map((i) => i.name), ['apple']);
    r = await c.rpc('divide', { a: -7, b: 2 });
    assert.deepEqual(r.data, { q: -3, r: -1, p: -14 }, 'integer division truncates toward zero');
    r = await c.rpc('divide', { a: 1, b: 0 });
    assert.equal(r.status, 400);
    assert.equal(r.error.code, '22012');
    r = await c.rpc('divide', { a: 4611686018427387904, b: 4 });
    assert.equal(r.status, 400, 'integer overflow fails the call');
    assert.equal(r.error.code, '22003');
    r = await c.rpc('halve', { x: 3 });
    assert.equal(r.data, 1.5, 'decimal division is not integer division');
    r = await c.rpc('touch', { item_id: apple });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.match(r.data.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.equal(r.data.day, r.data.at.slice(0, 10));
    const touched = await c.from('item').select('updated_at').eq('id', apple).single();
    assert.equal(touched.data.updated_at, r.data.at, 'updated_at is the call\'s now()');
    // arrays on GET come as {a,b}, as supabase-js sends them
    r = await c.rpc('named', { names: ['apple', 'pear'] }, { get: true });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.deepEqual(r.data.map((i) => i.name), ['apple']);
    r = await c.rpc('named', { names: ['a', 'b', 'c', 'd', 'e', 'f'] });
    assert.equal(r.status, 400, 'an oversized array argument');
    r = await c.rpc('remove', { item_id: apple });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.data.id, apple);
    r = await c.rpc('remove', { item_id: apple });
    assert.equal(r.status, 404);
  } finally {
    const { code } = await other.stop();
    assert.equal(code, 0, other.stderr());
  }
});
