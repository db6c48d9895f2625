// specbase serve as an operator meets it: a safe migration applied on start,
// an unsafe one or a schema changed behind the spec's back refused with the
// report, graceful shutdown, health and readiness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, bin } from './helpers.mjs';

const v1 = `app serve_test

collection item {
  name   text(1..50) required
  price  int

  allow read, create anyone
}
`;

function runServe(spec, db) {
  // a server that must refuse to start: it exits by itself
  const r = spawnSync(bin, ['serve', spec, '--db', db, '--port', '0'], { encoding: 'utf8', timeout: 15000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a safe change is applied on start, data kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'specbase-serve-'));
  try {
    const spec = join(dir, 'app.spec');
    writeFileSync(spec, v1);
    let server = await startServer(spec);
    const db = server.db;
    let r = await fetch(`${server.rest}/item`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"a","price":1}' });
    assert.equal(r.status, 201);
    // keep the database: stop without removing it by reusing its path
    const dbCopy = join(dir, 'kept.db');
    await fetch(`${server.url}/_/health`);
    await server.stop(); // removes its own temporary directory
    // a second life on a database of our own
    writeFileSync(spec, v1);
    const first = spawn(bin, ['serve', spec, '--db', dbCopy, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise((resolve, reject) => {
      let out = '';
      first.stdout.on('data', (d) => { out += d; const m = out.match(/on (http:\/\/\S+)/); if (m) resolve(m[1]); });
      first.on('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    r = await fetch(`${url}/rest/v1/item`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"kept","price":2}' });
    assert.equal(r.status, 201);
    assert.equal((await fetch(`${url}/_/ready`)).status, 200);
    first.kill('SIGTERM');
    await new Promise((res) => first.on('exit', res));
    // v2 adds an optional field: safe, applied on start, the row is still there
    writeFileSync(spec, v1.replace('  price  int\n', '  price  int\n  note   text\n'));
    const second = spawn(bin, ['serve', spec, '--db', dbCopy, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr.on('data', (d) => { err += d; });
    const url2 = await new Promise((resolve, reject) => {
      let out = '';
      second.stdout.on('data', (d) => { out += d; const m = out.match(/on (http:\/\/\S+)/); if (m) resolve(m[1]); });
      second.on('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
    });
    assert.match(err, /migrated/);
    const rows = await (await fetch(`${url2}/rest/v1/item?select=name,note`)).json();
    assert.deepEqual(rows, [{ name: 'kept', note: null }]);
    second.kill('SIGTERM');
    const code = await new Promise((res) => second.on('exit', (c) => res(c)));
    assert.equal(code, 0, 'graceful shutdown exits 0');
    // v3 drops a field: unsafe, refused with the plan, nothing changed
    writeFileSync(spec, v1.replace('  price  int\n', ''));
    const refused = runServe(spec, dbCopy);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /DATA LOSS/);
    assert.match(refused.stderr, /specbase migrate/);
    // drift: the schema changed by hand is reported, never fixed
    writeFileSync(spec, v1.replace('  price  int\n', '  price  int\n  note   text\n'));
    const sql = spawnSync('sqlite3', [dbCopy, 'CREATE INDEX sneaky ON item(price);'], { encoding: 'utf8' });
    assert.equal(sql.status, 0, sql.stderr);
    const drift = runServe(spec, dbCopy);
    assert.equal(drift.code, 1);
    assert.match(drift.stderr, /sneaky/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2, a bad spec exits 1', () => {
  let r = spawnSync(bin, ['serve'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  r = spawnSync(bin, ['serve', 'x.spec', '--port', '99999'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  r = spawnSync(bin, ['serve', 'x.spec', '--durability', 'sometimes'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  const dir = mkdtempSync(join(tmpdir(), 'specbase-serve-'));
  try {
    const spec = join(dir, 'bad.spec');
    writeFileSync(spec, 'app x\ncollection a {\n  n strng\n}\n');
    r = spawnSync(bin, ['serve', spec, '--db', join(dir, 'x.db'), '--port', '0'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown type 'strng'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server whose database was migrated behind it is not ready', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'specbase-serve-'));
  const v1 = join(dir, 'v1.spec'), v2 = join(dir, 'v2.spec');
  writeFileSync(v1, 'app notes\ncollection note {\n  body text\n  allow read anyone\n}\n');
  writeFileSync(v2, 'app notes\ncollection note {\n  body text\n  pinned bool\n  allow read anyone\n}\n');
  const server = await startServer(v1);
  try {
    let r = await fetch(`${server.url}/_/ready`);
    assert.equal(r.status, 200);
    const m = spawnSync(bin, ['migrate', v2, '--db', server.db, '--apply'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(m.status, 0, m.stderr);
    r = await fetch(`${server.url}/_/ready`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, 'unavailable');
    assert.match(body.reason, /another spec/);
    assert.equal((await fetch(`${server.url}/_/health`)).status, 200, 'still alive');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SPECBASE_CORS_ORIGINS limits the origins that browsers may read from', async () => {
  const server = await startServer('records.spec', { env: { SPECBASE_CORS_ORIGINS: 'https://app.example.com' } });
  try {
    let r = await fetch(`${server.rest}/product`, { headers: { Origin: 'https://app.example.com' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(r.headers.get('vary') || '', /Origin/);
    r = await fetch(`${server.rest}/product`, { headers: { Origin: 'https://evil.example.net' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  } finally {
    await server.stop();
  }
});

test('health, readiness and unknown paths', async () => {
  const server = await startServer('records.spec');
  try {
    let r = await fetch(`${server.url}/_/health`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
    r = await fetch(`${server.url}/_/ready`);
    assert.deepEqual(await r.json(), { status: 'ready' });
    r = await fetch(`${server.url}/nothing`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, 'PGRST125');
    r = await fetch(`${server.url}/_/metrics`);
    assert.equal(r.status, 401, 'the operator views need a credential');
    r = await fetch(`${server.rest}/product`, { headers: { 'Accept-Profile': 'private' } });
    assert.equal(r.status, 406);
    assert.equal((await r.json()).code, 'PGRST106');
    assert.ok(r.headers.get('x-request-id'));
  } finally {
    await server.stop();
  }
});
