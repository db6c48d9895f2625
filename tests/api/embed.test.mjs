// Resource embedding through postgrest-js, PostgREST's grammar: to-one,
// to-many and many-to-many embeds, aliases, hints, !inner, spreads, nested
// embeds, filters, order and limits on embedded resources, and the rules
// of embedded collections applied to their rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgrestClient } from '@supabase/postgrest-js';
import { startServer, api } from './helpers.mjs';

let server;
let db;

before(async () => {
  server = await startServer('embed.spec');
  db = new PostgrestClient(server.rest);
  const ok = async (q) => { const r = await q; assert.equal(r.error, null, JSON.stringify(r.error)); return r.data; };
  await ok(db.from('person').insert([{ name: 'Ada' }, { name: 'Bob' }, { name: 'Cy', secret: 's' }]));
  await ok(db.from('post').insert([
    { author: 1, reviewer: 2, title: 'First' },
    { author: 1, title: 'Second' },
    { author: 2, reviewer: 1, title: 'Third', draft: true },
  ]));
  await ok(db.from('comment').insert([
    { post: 1, author: 2, body: 'c1' }, { post: 1, author: 3, body: 'c2' }, { post: 1, author: 2, body: 'c3' },
    { post: 1, author: 3, body: 'spam', hidden: true }, { post: 3, author: 1, body: 'c4' },
  ]));
  await ok(db.from('tag').insert([{ name: 'db' }, { name: 'c' }, { name: 'web' }]));
  await ok(db.from('post_tag').insert([{ post: 1, tag: 1 }, { post: 1, tag: 2 }, { post: 2, tag: 3 }]));
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.stderr());
});

test('to-one embeds an object, to-many an array, many-to-many through the junction', async () => {
  const { data, error } = await db.from('post')
    .select('title, author!post_author_fkey(name), comment(body), tag(name)').order('id');
  assert.equal(error, null);
  assert.deepEqual(data[0], {
    title: 'First', author: { name: 'Ada' },
    comment: [{ body: 'c1' }, { body: 'c2' }, { body: 'c3' }],
    tag: [{ name: 'db' }, { name: 'c' }],
  });
  assert.deepEqual(data[1].comment, []);
  assert.deepEqual(data[1].tag, [{ name: 'web' }]);
});

test('aliases, column hints, nesting and null to-one', async () => {
  const { data, error } = await db.from('post')
    .select('title, writer:author(name), checker:reviewer(name), comments:comment(body, by:author(name))')
    .order('id').limit(2);
  assert.equal(error, null);
  assert.deepEqual(data[0].writer, { name: 'Ada' });
  assert.deepEqual(data[0].checker, { name: 'Bob' });
  assert.deepEqual(data[1].checker, null);
  assert.deepEqual(data[0].comments[1], { body: 'c2', by: { name: 'Cy' } });
});

test('ambiguous relationships are PGRST201, unknown ones PGRST200', async () => {
  let r = await db.from('post').select('title, person(name)');
  assert.equal(r.status, 300);
  assert.equal(r.error.code, 'PGRST201');
  assert.match(r.error.hint, /person!post_author_fkey/);
  r = await db.from('post').select('title, person!post_reviewer_fkey(name)').eq('id', 1);
  assert.deepEqual(r.data, [{ title: 'First', person: { name: 'Bob' } }]);
  r = await db.from('post').select('title, nothing(*)');
  assert.equal(r.status, 400);
  assert.equal(r.error.code, 'PGRST200');
});

test('filters, order, limit and or on embedded resources', async () => {
  const { data, error } = await db.from('post')
    .select('title, comment(body)').eq('id', 1)
    .order('id', { referencedTable: 'comment', ascending: false }).limit(2, { referencedTable: 'comment' });
  assert.equal(error, null);
  assert.deepEqual(data, [{ title: 'First', comment: [{ body: 'c3' }, { body: 'c2' }] }]);
  const r = await db.from('post').select('title, comment(body)').eq('id', 1).eq('comment.author', 3);
  assert.deepEqual(r.data[0].comment, [{ body: 'c2' }]);
  const o = await db.from('post').select('title, comment(body)').eq('id', 1).or('body.eq.c1,body.eq.c3', { referencedTable: 'comment' });
  assert.deepEqual(o.data[0].comment, [{ body: 'c1' }, { body: 'c3' }]);
  const bad = await db.from('post').select('title').eq('comment.author', 3);
  assert.equal(bad.status, 400);
  assert.equal(bad.error.code, 'PGRST108');
});

test('!inner filters the parent, rel=is.null tests for absence', async () => {
  let r = await db.from('post').select('title, comment!inner(body)').eq('comment.body', 'c4');
  assert.deepEqual(r.data, [{ title: 'Third', comment: [{ body: 'c4' }] }]);
  r = await db.from('post').select('title, reviewer(name)').is('reviewer', null);
  assert.deepEqual(r.data, [{ title: 'Second', reviewer: null }]);
  r = await db.from('post').select('title, reviewer(name)').not('reviewer', 'is', null).order('id');
  assert.deepEqual(r.data.map((x) => x.title), ['First', 'Third']);
  const { count } = await db.from('post').select('id, comment!inner(id)', { count: 'exact', head: true });
  assert.equal(count, 2);
});

test('spread and ordering by a to-one embed', async () => {
  let r = await db.from('post').select('title, ...author(author_name:name)').order('id').limit(1);
  assert.deepEqual(r.data, [{ title: 'First', author_name: 'Ada' }]);
  const raw = await api(server, 'GET', '/post?select=title,author(name)&order=author(name).desc,id.asc');
  assert.equal(raw.status, 200, raw.text);
  assert.deepEqual(raw.json.map((x) => x.title), ['Third', 'First', 'Second']);
});

test('rules and hidden fields of embedded collections apply to their rows', async () => {
  const { data } = await db.from('post').select('comment(body)').eq('id', 1);
  assert.ok(!data[0].comment.some((c) => c.body === 'spam'), 'a row its rule hides is not embedded');
  const r = await db.from('comment').select('body, author(*)').eq('id', 2);
  assert.ok(!('secret' in r.data[0].author));
  const h = await db.from('comment').select('body, author(secret)').eq('id', 2);
  assert.equal(h.status, 400);
});

test('writes return embedded resources with return=representation', async () => {
  const { data, error } = await db.from('comment').insert({ post: 2, author: 1, body: 'new' })
    .select('body, post(title), author(name)').single();
  assert.equal(error, null);
  assert.deepEqual(data, { body: 'new', post: { title: 'Second' }, author: { name: 'Ada' } });
});

test('rows and embeds of a collection with more fields than one SQL function call takes', async () => {
  // a row's JSON is written by calls of at most 100 arguments; 120 fields
  // (about 240 arguments) take three, joined in SQL
  const kinds = ['text', 'int', 'decimal(10, 2)', 'bool', 'json'];
  const fields = Array.from({ length: 120 }, (_, i) => [`f${i}`, kinds[i % kinds.length]]);
  const dir = mkdtempSync(join(tmpdir(), 'specbase-wide-'));
  const spec = join(dir, 'wide.spec');
  writeFileSync(spec, `app wide\n\ncollection wide {\n${fields.map(([n, t]) => `  ${n} ${t}\n`).join('')}` +
    '  allow read, create anyone\n}\n\ncollection note {\n  wide -> wide required\n  body text\n' +
    '  allow read, create anyone\n}\n');
  const wide = await startServer(spec);
  try {
    const value = (t, i) => (t === 'text' ? `t"${i}\\` : t === 'int' ? i : t === 'bool' ? i % 2 === 0
      : t === 'json' ? { i, list: [i, null] } : `${i}.25`);
    const row = Object.fromEntries(fields.map(([n, t], i) => [n, value(t, i)]));
    row.f1 = null; // a null among them
    let r = await api(wide, 'POST', '/wide', { body: row, headers: { Prefer: 'return=representation' } });
    assert.equal(r.status, 201, r.text);
    r = await api(wide, 'POST', '/note', { body: { wide: 1, body: 'n' } });
    assert.equal(r.status, 201, r.text);
    r = await api(wide, 'GET', '/wide?select=*');
    assert.equal(r.status, 200, r.text);
    const got = r.json[0];
    assert.equal(Object.keys(got).length, 120 + 3); // with id, created_at, updated_at
    for (const [n, t] of fields) {
      const want = t.startsWith('decimal') && row[n] !== null ? Number(row[n]) : row[n];
      assert.deepEqual(got[n], want, n);
    }
    r = await api(wide, 'GET', '/note?select=body,wide(*)');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json[0].wide, got);
    r = await api(wide, 'GET', '/wide?select=id,note(body)');
    assert.deepEqual(r.json, [{ id: 1, note: [{ body: 'n' }] }]);
  } finally {
    const { code } = await wide.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, wide.stderr());
  }
});
