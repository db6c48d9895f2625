// The records API through @supabase/postgrest-js and @supabase/supabase-js,
// as an application would use them: data in, the same data out, PostgREST's
// status codes, headers and error codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import { createClient } from '@supabase/supabase-js';
import { startServer, api } from './helpers.mjs';

let server;
let db;

const products = [
  { name: 'Red chair', description: 'A sturdy red chair for the kitchen', price: 49.5, stock: 10,
    category: 'furniture', tags: ['red', 'wood'], released: '2024-01-15', attrs: { legs: 4, color: 'red' },
    sku: '123e4567-e89b-12d3-a456-426614174000', contact: 'sales@example.com', homepage: 'https://example.com/chair',
    rating: 4.5, launched_at: '2024-01-15T09:30:00+02:00' },
  { name: 'Blue table', description: 'A large blue table', price: 199, stock: 2, category: 'furniture',
    tags: ['blue', 'wood'], active: false, attrs: { legs: 4, color: 'blue' }, rating: 3.9 },
  { name: 'E-book', description: 'A digital book about chairs', price: 9.99, stock: 0, category: 'books',
    kind: 'digital', tags: [], attrs: null },
  { name: 'Lamp', price: 25, category: 'lighting', stock: 5 },
];

before(async () => {
  server = await startServer('records.spec');
  db = new PostgrestClient(server.rest);
  const { data, error, status } = await db.from('product').insert(products).select('id,name');
  assert.equal(error, null);
  assert.equal(status, 201);
  assert.equal(data.length, 4);
});

after(async () => {
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `server exit ${code} ${signal}: ${server.stderr()}`);
});

test('select every column of every row, types as stored', async () => {
  const { data, error, status } = await db.from('product').select('*').order('id');
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.equal(data.length, 4);
  const chair = data[0];
  assert.equal(chair.name, 'Red chair');
  assert.equal(chair.price, 49.5);
  assert.equal(chair.stock, 10);
  assert.equal(chair.active, true);
  assert.deepEqual(chair.tags, ['red', 'wood']);
  assert.deepEqual(chair.attrs, { legs: 4, color: 'red' });
  assert.equal(chair.released, '2024-01-15');
  assert.equal(chair.launched_at, '2024-01-15T07:30:00.000000Z');
  assert.equal(chair.kind, 'physical');
  assert.equal(chair.rating, 4.5);
  assert.equal(typeof chair.id, 'number');
  assert.match(chair.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(!('secret' in chair), 'hidden fields are never returned');
  assert.equal(data[1].active, false);
  assert.equal(data[2].attrs, null);
  assert.equal(data[3].stock, 5);
});

test('select columns, aliases, casts and json paths', async () => {
  const { data, error } = await db.from('product')
    .select('title:name,price::text,legs:attrs->legs,color:attrs->>color').eq('name', 'Red chair');
  assert.equal(error, null);
  assert.deepEqual(data, [{ title: 'Red chair', price: '49.50', legs: 4, color: 'red' }]);
});

test('comparison filters', async () => {
  const names = async (q) => {
    const { data, error } = await q.order('id');
    assert.equal(error, null);
    return data.map((r) => r.name);
  };
  const p = () => db.from('product').select('name');
  assert.deepEqual(await names(p().eq('category', 'furniture')), ['Red chair', 'Blue table']);
  assert.deepEqual(await names(p().neq('category', 'furniture')), ['E-book', 'Lamp']);
  assert.deepEqual(await names(p().gt('price', 25)), ['Red chair', 'Blue table']);
  assert.deepEqual(await names(p().gte('price', 25)), ['Red chair', 'Blue table', 'Lamp']);
  assert.deepEqual(await names(p().lt('price', '25')), ['E-book']);
  assert.deepEqual(await names(p().lte('stock', 2)), ['Blue table', 'E-book']);
  assert.deepEqual(await names(p().like('name', '*ch*')), ['Red chair']);
  assert.deepEqual(await names(p().ilike('name', '%BLUE%')), ['Blue table']);
  assert.deepEqual(await names(p().in('category', ['books', 'lighting'])), ['E-book', 'Lamp']);
  assert.deepEqual(await names(p().is('released', null)), ['Blue table', 'E-book', 'Lamp']);
  assert.deepEqual(await names(p().is('active', false)), ['Blue table']);
  assert.deepEqual(await names(p().not('category', 'eq', 'furniture')), ['E-book', 'Lamp']);
  assert.deepEqual(await names(p().or('stock.eq.0,price.gt.100')), ['Blue table', 'E-book']);
  assert.deepEqual(await names(p().or('and(category.eq.furniture,stock.gt.5),kind.eq.digital')), ['Red chair', 'E-book']);
  assert.deepEqual(await names(p().eq('released', '2024-01-15')), ['Red chair']);
  assert.deepEqual(await names(p().gt('launched_at', '2024-01-15T07:00:00Z')), ['Red chair']);
  assert.deepEqual(await names(p().filter('name', 'match', '^[A-Z]-[a-z]')), ['E-book']);
  assert.deepEqual(await names(p().filter('name', 'imatch', 'TABLE$')), ['Blue table']);
});

test('array, json and full-text filters', async () => {
  const names = async (q) => (await q.order('id')).data.map((r) => r.name);
  const p = () => db.from('product').select('name');
  assert.deepEqual(await names(p().contains('tags', ['wood'])), ['Red chair', 'Blue table']);
  assert.deepEqual(await names(p().contains('tags', ['red', 'wood'])), ['Red chair']);
  assert.deepEqual(await names(p().containedBy('tags', ['red', 'wood', 'x'])), ['Red chair', 'E-book']);
  assert.deepEqual(await names(p().overlaps('tags', ['blue', 'x'])), ['Blue table']);
  assert.deepEqual(await names(p().contains('attrs', { color: 'blue' })), ['Blue table']);
  assert.deepEqual(await names(p().eq('attrs->>color', 'red')), ['Red chair']);
  assert.deepEqual(await names(p().textSearch('description', 'chair')), ['Red chair', 'E-book']);
  assert.deepEqual(await names(p().textSearch('description', 'chair & !digital')), ['Red chair']);
  assert.deepEqual(await names(p().textSearch('description', 'large table', { type: 'plain' })), ['Blue table']);
  assert.deepEqual(await names(p().textSearch('description', '"red chair"', { type: 'websearch' })), ['Red chair']);
});

test('order, limit, offset, range and exact counts', async () => {
  let r = await db.from('product').select('name', { count: 'exact' }).order('price', { ascending: false }).limit(2);
  assert.equal(r.error, null);
  assert.equal(r.count, 4);
  assert.equal(r.status, 206);
  assert.deepEqual(r.data.map((x) => x.name), ['Blue table', 'Red chair']);
  r = await db.from('product').select('name').order('released', { ascending: true, nullsFirst: true }).order('id');
  assert.deepEqual(r.data.map((x) => x.name), ['Blue table', 'E-book', 'Lamp', 'Red chair']);
  r = await db.from('product').select('name').order('id').range(1, 2);
  assert.deepEqual(r.data.map((x) => x.name), ['Blue table', 'E-book']);
  const raw = await api(server, 'GET', '/product?select=id&order=id&offset=1&limit=2', { headers: { Prefer: 'count=exact' } });
  assert.equal(raw.status, 206);
  assert.equal(raw.headers.get('content-range'), '1-2/4');
  const all = await api(server, 'GET', '/product?select=id');
  assert.equal(all.status, 200);
  assert.equal(all.headers.get('content-range'), '0-3/*');
  const past = await api(server, 'GET', '/product?offset=10', { headers: { Prefer: 'count=exact' } });
  assert.equal(past.status, 416);
  assert.equal(past.json.code, 'PGRST103');
  const head = await db.from('product').select('*', { count: 'exact', head: true }).eq('category', 'furniture');
  assert.equal(head.count, 2);
  assert.equal(head.data, null);
  const ranged = await api(server, 'GET', '/product?select=id&order=id', { headers: { Range: '2-3' } });
  assert.equal(ranged.json.length, 2);
  assert.equal(ranged.headers.get('content-range'), '2-3/*');
});

test('single, maybeSingle and CSV', async () => {
  let r = await db.from('product').select('name').eq('name', 'Lamp').single();
  assert.equal(r.error, null);
  assert.deepEqual(r.data, { name: 'Lamp' });
  r = await db.from('product').select('name').eq('category', 'furniture').single();
  assert.equal(r.status, 406);
  assert.equal(r.error.code, 'PGRST116');
  r = await db.from('product').select('name').eq('name', 'nothing').maybeSingle();
  assert.equal(r.error, null);
  assert.equal(r.data, null);
  r = await db.from('product').select('name,price,tags').eq('category', 'furniture').order('id').csv();
  assert.equal(r.error, null);
  assert.equal(r.data, 'name,price,tags\nRed chair,49.50,"[""red"",""wood""]"\nBlue table,199.00,"[""blue"",""wood""]"');
});

test('insert returns representation, minimal or headers only', async () => {
  let r = await db.from('product').insert({ name: 'Desk', price: 120, category: 'furniture' }).select().single();
  assert.equal(r.error, null);
  assert.equal(r.status, 201);
  assert.equal(r.data.name, 'Desk');
  assert.equal(r.data.stock, 0, 'defaults are applied');
  assert.equal(r.data.kind, 'physical');
  const id = r.data.id;
  r = await db.from('product').insert({ name: 'Stool', price: 20, category: 'furniture' });
  assert.equal(r.error, null);
  assert.equal(r.status, 201);
  assert.equal(r.data, null);
  const raw = await api(server, 'POST', '/product', {
    body: { name: 'Shelf', price: 60, category: 'furniture' }, headers: { Prefer: 'return=headers-only' } });
  assert.equal(raw.status, 201);
  assert.match(raw.headers.get('location'), /^\/product\?id=eq\.\d+$/);
  const { data } = await db.from('product').delete().in('name', ['Desk', 'Stool', 'Shelf']).select('id');
  assert.equal(data.length, 3);
  assert.ok(data.some((x) => x.id === id));
});

test('update and delete with filters', async () => {
  let r = await db.from('product').update({ stock: 7 }).eq('name', 'Lamp').select('name,stock,updated_at,created_at');
  assert.equal(r.error, null);
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.map((x) => [x.name, x.stock]), [['Lamp', 7]]);
  assert.ok(r.data[0].updated_at >= r.data[0].created_at);
  r = await db.from('product').update({ stock: 8 }).eq('name', 'Lamp');
  assert.equal(r.status, 204);
  const raw = await api(server, 'PATCH', '/product?name=eq.nothing', { body: { stock: 1 } });
  assert.equal(raw.status, 204);
  const { data: review } = await db.from('review').insert({ product: 4, stars: 5, body: 'bright' }).select().single();
  assert.equal(review.product, 4);
  r = await db.from('product').delete().eq('name', 'Lamp').select('name');
  assert.deepEqual(r.data, [{ name: 'Lamp' }]);
  const left = await db.from('review').select('id').eq('id', review.id);
  assert.deepEqual(left.data, [], 'on delete cascade removed the review');
  await db.from('product').insert({ name: 'Lamp', price: 25, category: 'lighting', stock: 5 });
});

test('validation: every failing field reported, nothing written', async () => {
  const before = await db.from('product').select('*', { count: 'exact', head: true });
  let r = await db.from('product').insert({ name: '', price: -1, category: 'x'.repeat(51), stock: 'many', kind: 'liquid',
    contact: 'not-an-email', sku: 'nope', tags: ['x'.repeat(31)], released: '2024-02-30' });
  assert.equal(r.status, 400);
  const fields = r.error.details;
  for (const f of ['name', 'price', 'category', 'stock', 'kind', 'contact', 'sku', 'tags', 'released'])
    assert.match(fields, new RegExp(`\\b${f}\\b`), `${f} is reported`);
  r = await db.from('product').insert([
    { name: 'ok 1', price: 1, category: 'c' },
    { name: 'ok 2', price: 2, category: 'c' },
    { name: 'bad', price: -5, category: 'c' },
  ]);
  assert.equal(r.status, 400);
  assert.match(r.error.details, /\[2\]\.price/);
  r = await db.from('product').insert({ name: 'x', price: 1, category: 'c', color: 'red' });
  assert.equal(r.status, 400);
  assert.equal(r.error.code, 'PGRST204');
  r = await db.from('product').insert({ name: 'x', price: 1, category: 'c', secret: 's', created_at: '2020-01-01T00:00:00Z' });
  assert.equal(r.status, 400);
  r = await db.from('product').insert({ price: 1 });
  assert.equal(r.status, 400);
  assert.match(r.error.details, /name/);
  const after = await db.from('product').select('*', { count: 'exact', head: true });
  assert.equal(after.count, before.count, 'no row was written');
  const bad = await api(server, 'POST', '/product', { body: '{"name": "a", "name": "b"}' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 'PGRST102');
  const broken = await api(server, 'POST', '/product', { body: '{"name": ' });
  assert.equal(broken.status, 400);
  assert.equal(broken.json.code, 'PGRST102');
});

test('filter values of the wrong type are a 400, not an empty result', async () => {
  let r = await db.from('product').select('name').eq('stock', 'abc');
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '22P02');
  r = await db.from('product').select('name').eq('kind', 'liquid');
  assert.equal(r.status, 400);
  r = await db.from('product').select('name').eq('sku', 'not-a-uuid');
  assert.equal(r.status, 400);
  r = await db.from('product').select('nope');
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '42703');
  r = await db.from('product').select('name').eq('secret', 'x');
  assert.equal(r.status, 400, 'hidden fields cannot be filtered');
  const raw = await api(server, 'GET', '/product?price=gtx.5');
  assert.equal(raw.status, 400);
  assert.equal(raw.json.code, 'PGRST100');
});

test('constraint errors: unique and foreign keys are 409', async () => {
  let r = await db.from('product').insert({ name: 'dup', price: 1, category: 'c', sku: '123e4567-e89b-12d3-a456-426614174000' });
  assert.equal(r.status, 409);
  assert.equal(r.error.code, '23505');
  r = await db.from('review').insert({ product: 999999, stars: 3 });
  assert.equal(r.status, 409);
  assert.equal(r.error.code, '23503');
});

test('unknown tables and methods', async () => {
  let r = await db.from('nothing').select('*');
  assert.equal(r.status, 404);
  assert.equal(r.error.code, 'PGRST205');
  const raw = await api(server, 'PUT', '/product', { body: {} });
  assert.equal(raw.status, 405);
});

test('rules: no rule means deny', async () => {
  let r = await db.from('locked').insert({ note: 'x' });
  assert.equal(r.status, 403);
  assert.equal(r.error.code, '42501');
  r = await db.from('locked').select('*');
  assert.deepEqual(r.data, []);
  r = await db.from('invisible').select('*', { count: 'exact' });
  assert.equal(r.error, null);
  assert.deepEqual(r.data, []);
  assert.equal(r.count, 0);
});

test('hostile strings are stored and returned verbatim', async () => {
  const evil = ["'; DROP TABLE product; --", '<script>alert(1)</script>', '../../etc/passwd', '${7*7}', 'Robert"); --', '\u202e\u0000x'.replace('\u0000', '')];
  for (const s of evil) {
    const { data, error } = await db.from('review').insert({ product: 1, stars: 1, body: s }).select('body').single();
    assert.equal(error, null);
    assert.equal(data.body, s);
    const found = await db.from('review').select('body').eq('body', s);
    assert.deepEqual(found.data, [{ body: s }]);
  }
  const { count } = await db.from('product').select('*', { count: 'exact', head: true });
  assert.ok(count >= 4);
});

test('Prefer: tx=rollback and max-affected', async () => {
  let raw = await api(server, 'POST', '/review', {
    body: { product: 1, stars: 2 }, headers: { Prefer: 'tx=rollback, return=representation' } });
  assert.equal(raw.status, 201);
  assert.equal(raw.json[0].stars, 2);
  assert.match(raw.headers.get('preference-applied'), /tx=rollback/);
  const none = await db.from('review').select('id').eq('stars', 2);
  assert.deepEqual(none.data, []);
  raw = await api(server, 'PATCH', '/product?category=eq.furniture', {
    body: { stock: 3 }, headers: { Prefer: 'handling=strict, max-affected=1' } });
  assert.equal(raw.status, 400);
  assert.equal(raw.json.code, 'PGRST124');
  const stock = await db.from('product').select('stock').eq('name', 'Blue table').single();
  assert.equal(stock.data.stock, 2, 'the update was rolled back');
});

test('supabase-js from() works against the same server', async () => {
  const supabase = createClient(server.url, 'anon-key', { auth: { persistSession: false, autoRefreshToken: false } });
  const { data, error } = await supabase.from('product').select('name').eq('category', 'books');
  assert.equal(error, null);
  assert.deepEqual(data, [{ name: 'E-book' }]);
});

test('rules with auth and field rules are part of every statement', async () => {
  let r = await db.from('note').insert({ title: 'hello', email: 'a@example.com' }).select().single();
  assert.equal(r.error, null);
  assert.equal(r.data.title, 'hello');
  assert.ok(!('email' in r.data), 'a field whose read rule fails is omitted');
  r = await db.from('note').select('title,email');
  assert.deepEqual(r.data, [{ title: 'hello' }]);
  r = await db.from('note').select('title').eq('email', 'a@example.com');
  assert.deepEqual(r.data, [], 'nor can it be filtered on');
  r = await db.from('note').insert({ title: 'forbidden' });
  assert.equal(r.status, 403);
  assert.equal(r.error.code, '42501');
  r = await db.from('note').insert([{ title: 'fine' }, { title: 'forbidden' }]);
  assert.equal(r.status, 403, 'one refused row refuses the whole insert');
  const count = await db.from('note').select('*', { count: 'exact', head: true });
  assert.equal(count.count, 1);
  await db.from('note').insert({ title: 'frozen', status: 'locked' });
  r = await db.from('note').update({ title: 'changed' }).eq('title', 'frozen').select();
  assert.equal(r.error, null);
  assert.deepEqual(r.data, [], 'a row the update rule does not allow is not touched');
  r = await db.from('note').update({ status: 'locked' }).eq('title', 'hello').select();
  assert.equal(r.status, 403, 'an update whose result breaks the rule is refused');
  r = await db.from('note').select('title,status').order('id');
  assert.deepEqual(r.data, [{ title: 'hello', status: 'open' }, { title: 'frozen', status: 'locked' }]);
});

test('upserts: merge and ignore duplicates, on_conflict, PUT', async () => {
  let r = await db.from('product').upsert({ id: 1, name: 'Red chair', price: 55, category: 'furniture' }).select('id,price').single();
  assert.equal(r.error, null);
  assert.equal(r.status, 200, 'a merge that inserted nothing is 200');
  assert.deepEqual(r.data, { id: 1, price: 55 });
  r = await db.from('product').upsert([
    { name: 'Sofa', price: 300, category: 'furniture', sku: '00000000-0000-4000-8000-000000000001' },
    { name: 'Red chair v2', price: 56, category: 'furniture', sku: '123e4567-e89b-12d3-a456-426614174000' },
  ], { onConflict: 'sku' }).select('name,price');
  assert.equal(r.error, null);
  assert.equal(r.status, 201);
  assert.deepEqual(r.data.map((x) => x.name).sort(), ['Red chair v2', 'Sofa']);
  const chair = await db.from('product').select('name,price').eq('id', 1).single();
  assert.deepEqual(chair.data, { name: 'Red chair v2', price: 56 });
  r = await db.from('product').upsert({ id: 1, name: 'ignored', price: 1, category: 'x' }, { ignoreDuplicates: true }).select('id');
  assert.equal(r.error, null);
  assert.deepEqual(r.data, []);
  r = await db.from('product').upsert({ name: 'x', price: 1, category: 'x' }, { onConflict: 'category' });
  assert.equal(r.status, 400);
  assert.equal(r.error.code, '42P10');
  let raw = await api(server, 'PUT', '/product?id=eq.1', {
    body: { name: 'Put chair', price: 57, category: 'furniture' }, headers: { Prefer: 'return=representation' } });
  assert.equal(raw.status, 200, raw.text);
  assert.equal(raw.json[0].name, 'Put chair');
  raw = await api(server, 'PUT', '/product?id=eq.1', { body: { id: 2, name: 'x', price: 1, category: 'x' } });
  assert.equal(raw.status, 400);
  assert.equal(raw.json.code, 'PGRST115');
  raw = await api(server, 'PUT', '/product?name=eq.x', { body: { name: 'x', price: 1, category: 'x' } });
  assert.equal(raw.status, 405);
  assert.equal(raw.json.code, 'PGRST105');
  await db.from('product').update({ name: 'Red chair', price: 49.5 }).eq('id', 1);
  await db.from('product').delete().eq('name', 'Sofa');
});

test('CSV bodies insert rows', async () => {
  const raw = await api(server, 'POST', '/review', {
    body: 'product,stars,body\n1,4,"good, solid"\n1,5,\n', headers: { 'Content-Type': 'text/csv', Prefer: 'return=representation' } });
  assert.equal(raw.status, 201, raw.text);
  assert.deepEqual(raw.json.map((x) => [x.stars, x.body]), [[4, 'good, solid'], [5, null]]);
  const bad = await api(server, 'POST', '/review', { body: 'product,stars\n1,many\n', headers: { 'Content-Type': 'text/csv' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.details, /stars/);
  await db.from('review').delete().in('stars', [4, 5]);
});

test('update rules see the row before (old.) and the values written (new.)', async () => {
  const { data } = await db.from('counter').insert([{ value: 5 }, { value: 9 }]).select('id');
  let r = await db.from('counter').update({ value: 7 }).eq('id', data[0].id).select('value');
  assert.equal(r.error, null);
  assert.deepEqual(r.data, [{ value: 7 }]);
  r = await db.from('counter').update({ value: 6 }).eq('id', data[0].id).select('value');
  assert.equal(r.status, 403, 'a decrease breaks new.value > old.value');
  r = await db.from('counter').update({ value: 8 }).in('id', data.map((x) => x.id));
  assert.equal(r.status, 403, 'one breaking row refuses the whole update');
  r = await db.from('counter').select('value').order('id');
  assert.deepEqual(r.data.map((x) => x.value), [7, 9], 'nothing was written');
});
