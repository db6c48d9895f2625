// examples/blog.spec through @supabase/supabase-js: embedding authors,
// comments and tags (through the post_tag junction) in every form, upserts
// and CSV, with the blog's rules deciding what anonymous readers and
// authors see and change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { startServer, bin, root } from './helpers.mjs';

let server;
let anon;
let admin;
let author;
let authorId;
const blog = join(root, 'examples', 'blog.spec');
const opts = { auth: { persistSession: false, autoRefreshToken: false } };

before(async () => {
  server = await startServer(blog);
  const keys = spawnSync(bin, ['keys', blog, '--db', server.db], { encoding: 'utf8' });
  assert.equal(keys.status, 0, keys.stderr);
  const anonKey = keys.stdout.match(/^anon\s+(\S+)/m)[1];
  anon = createClient(server.url, anonKey, opts);
  admin = createClient(server.url, keys.stdout.match(/^service\s+(\S+)/m)[1], opts);
  author = createClient(server.url, anonKey, opts);
  const { data, error } = await author.auth.signUp({ email: 'ada@example.com', password: 'analytical engine', options: { data: { name: 'Ada' } } });
  assert.equal(error, null, JSON.stringify(error));
  authorId = Number(data.user.id);
  const ok = async (q) => { const r = await q; assert.equal(r.error, null, JSON.stringify(r.error)); return r.data; };
  await ok(admin.from('author').insert({ email: 'bob@example.com', name: 'Bob' }));
  // the author writes posts as herself (author defaults to auth.id)
  await ok(author.from('post').insert([
    { title: 'Engines', slug: 'engines', body: 'On engines', published: true, published_at: '2024-01-01T00:00:00Z' },
    { title: 'Notes', slug: 'notes', body: 'Draft notes' },
  ]));
  await ok(admin.from('tag').insert([{ name: 'math' }, { name: 'history' }]));
  await ok(admin.from('post_tag').insert([{ post: 1, tag: 1 }, { post: 1, tag: 2 }]));
  await ok(admin.from('comment').insert([
    { post: 1, author: 2, body: 'first!' }, { post: 1, author: authorId, body: 'thanks' }, { post: 1, author: 2, body: 'more' },
  ]));
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.stderr());
});

test('anonymous readers see published posts with author, comments and tags', async () => {
  const { data, error } = await anon.from('post')
    .select('title, author(name), comment(body, author(name)), tag(name)').order('id');
  assert.equal(error, null);
  assert.equal(data.length, 1, 'the draft is not readable');
  assert.deepEqual(data[0].author, { name: 'Ada' });
  assert.deepEqual(data[0].tag.map((t) => t.name), ['math', 'history']);
  assert.deepEqual(data[0].comment.map((c) => [c.body, c.author.name]), [['first!', 'Bob'], ['thanks', 'Ada'], ['more', 'Bob']]);
});

test('the author sees her draft; latest comments first, limited; inner join; spread', async () => {
  let r = await author.from('post').select('title').order('id');
  assert.deepEqual(r.data.map((p) => p.title), ['Engines', 'Notes']);
  r = await anon.from('post').select('title, comment(body)')
    .order('id', { referencedTable: 'comment', ascending: false }).limit(2, { referencedTable: 'comment' });
  assert.deepEqual(r.data[0].comment.map((c) => c.body), ['more', 'thanks']);
  r = await author.from('post').select('title, comment!inner(body)').eq('comment.body', 'thanks');
  assert.deepEqual(r.data.map((p) => p.title), ['Engines']);
  r = await anon.from('comment').select('body, ...author(writer:name)').eq('body', 'thanks');
  assert.deepEqual(r.data, [{ body: 'thanks', writer: 'Ada' }]);
  r = await anon.from('author').select('name, post(title)').eq('id', authorId);
  assert.deepEqual(r.data, [{ name: 'Ada', post: [{ title: 'Engines' }] }], 'an embedded draft stays hidden');
});

test('upserts by a unique key and CSV out', async () => {
  let r = await author.from('post').upsert({ slug: 'notes', title: 'Notes, revised' }, { onConflict: 'slug' }).select('title');
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.deepEqual(r.data, [{ title: 'Notes, revised' }]);
  r = await admin.from('tag').upsert([{ name: 'math' }, { name: 'art' }], { onConflict: 'name', ignoreDuplicates: true }).select('name');
  assert.deepEqual(r.data, [{ name: 'art' }]);
  r = await anon.from('tag').select('name').order('name').csv();
  assert.equal(r.data, 'name\nart\nhistory\nmath');
});
