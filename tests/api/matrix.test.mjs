// The access matrix of examples/shop.spec, derived from the spec itself:
// for every role (anonymous, customer, admin, service key) x collection x
// operation, the expected outcome is computed by evaluating the spec's rule
// (from `specbase spec --json`) on the row involved, and the server must
// answer exactly that: the row or no row for reads, 201 or 403 for creates,
// the row / nothing / 403 for updates, the row or nothing for deletes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startServer, bin, root } from './helpers.mjs';

const shop = join(root, 'examples', 'shop.spec');
const model = JSON.parse(spawnSync(bin, ['spec', '--json', shop], { encoding: 'utf8' }).stdout);
const usersName = model.auth.users;
let server;
let keys;
const who = {}; // role -> { token, id, role, email }

async function call(method, path, token, body, prefer = 'return=representation') {
  const headers = { 'Content-Type': 'application/json', Prefer: prefer };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.rest}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function signUp(role) {
  const email = `${role}-${randomUUID().slice(0, 8)}@example.com`;
  const res = await fetch(`${server.url}/auth/v1/signup`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'matrix password 1', data: { name: role } }) });
  const s = await res.json();
  assert.ok(s.access_token, JSON.stringify(s));
  const id = Number(s.user.id);
  if (role !== 'customer') {
    const r = await call('PATCH', `/${usersName}?id=eq.${id}`, keys.service, { role });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  const again = await fetch(`${server.url}/auth/v1/token?grant_type=password`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'matrix password 1' }) });
  const t = await again.json();
  return { token: t.access_token, id, role, email };
}

// ---- the rule evaluator (the spec's expression language over JSON ASTs) ----
function evaluate(e, row, caller) {
  if (e.anyone) return true;
  if (e.authenticated) return caller.id != null;
  if ('value' in e) return e.value;
  if (e.field) return row[e.field] ?? null;
  if (e.new) return row[e.new] ?? null;
  if (e.old) return row[e.old] ?? null;
  if (e.auth) return { id: caller.id ?? null, role: caller.role, email: caller.email ?? null }[e.auth];
  if (e.list) return e.list.map((x) => evaluate(x, row, caller));
  const l = () => evaluate(e.left, row, caller);
  const r = () => evaluate(e.right, row, caller);
  switch (e.op) {
    case 'and': { const a = l(); const b = r(); return a === false || b === false ? false : a === null || b === null ? null : true; }
    case 'or': { const a = l(); const b = r(); return a === true || b === true ? true : a === null || b === null ? null : false; }
    case 'not': { const a = evaluate(e.operand ?? e.left, row, caller); return a === null ? null : !a; }
    case '==': { const a = l(); const b = r(); return a === null || b === null ? null : String(a) === String(b); }
    case '!=': { const a = l(); const b = r(); return a === null || b === null ? null : String(a) !== String(b); }
    case '<': return Number(l()) < Number(r());
    case '<=': return Number(l()) <= Number(r());
    case '>': return Number(l()) > Number(r());
    case '>=': return Number(l()) >= Number(r());
    case 'in': return r().map(String).includes(String(l()));
    default: throw new Error(`no evaluation for ${JSON.stringify(e)}`);
  }
}

function allowed(coll, op, row, caller) {
  if (caller.service) return true;
  const rule = coll.rules[op];
  return rule ? evaluate(rule.ast, row, caller) === true : false;
}

// ---- rows -------------------------------------------------------------------
const byName = Object.fromEntries(model.collections.map((c) => [c.name, c]));

function sample(f) {
  const t = f.type;
  if (t.array) return [];
  switch (t.kind) {
    case 'text': return f.unique ? `t-${randomUUID().slice(0, 8)}` : 'x'.repeat(Math.max(t.min ?? 1, 1));
    case 'int': return t.min ?? 1;
    case 'float': return t.min ?? 1;
    case 'decimal': return '1.00';
    case 'bool': return true;
    case 'timestamp': return '2024-01-01T00:00:00.000000Z';
    case 'date': return '2024-01-01';
    case 'uuid': return randomUUID();
    case 'email': return `e-${randomUUID().slice(0, 8)}@example.com`;
    case 'url': return 'https://example.com/';
    case 'enum': return t.values[0];
    case 'json': return {};
    default: return undefined;
  }
}

// A row of coll owned by owner (relations to the users collection point to
// owner, unless unique: then to a fresh account), written with the service key.
async function makeRow(coll, owner, fresh = false) {
  const body = {};
  for (const f of coll.fields) {
    if (f.system || f.readonly || f.type.kind === 'password' || f.rules.write) continue;
    if (!f.required && f.type.kind !== 'relation') continue;
    if (f.type.kind === 'relation') {
      if (f.type.target === usersName) {
        body[f.name] = f.unique || fresh || owner == null ? (await signUp('customer')).id : owner;
      } else {
        body[f.name] = (await makeRow(byName[f.type.target], owner)).id;
      }
    } else {
      body[f.name] = sample(f);
    }
  }
  const r = await call('POST', `/${coll.name}`, keys.service, body);
  assert.equal(r.status, 201, `${coll.name}: ${JSON.stringify(r.json)}`);
  return r.json[0];
}

// the harmless change an update test makes
function change(coll) {
  for (const f of coll.fields)
    if (!f.system && !f.readonly && !f.unique && !f.rules.write && ['text', 'int'].includes(f.type.kind) && !f.type.array)
      return { [f.name]: f.type.kind === 'text' ? 'y'.repeat(Math.max(f.type.min ?? 1, 1)) : (f.type.min ?? 1) + 1 };
  return null;
}

before(async () => {
  server = await startServer(shop);
  const out = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' }).stdout;
  keys = { anon: out.match(/^anon\s+(\S+)/m)[1], service: out.match(/^service\s+(\S+)/m)[1] };
  who.anon = { token: keys.anon, id: null, role: 'anon' };
  who.customer = await signUp('customer');
  who.admin = await signUp('admin');
  who.service = { token: keys.service, id: null, role: 'service', service: true };
});

after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, server.stderr());
});

for (const roleName of ['anon', 'customer', 'admin', 'service']) {
  for (const coll of model.collections) {
    test(`${roleName} x ${coll.name}`, async () => {
      const caller = who[roleName];
      const ownerId = caller.id;
      // read: one row of the caller's (their own account for the users collection)
      const row = coll.name === usersName && ownerId ? (await call('GET', `/${usersName}?id=eq.${ownerId}`, keys.service)).json[0]
        : await makeRow(coll, ownerId);
      let r = await call('GET', `/${coll.name}?id=eq.${row.id}`, caller.token);
      assert.equal(r.status, 200);
      assert.equal(r.json.length, allowed(coll, 'read', row, caller) ? 1 : 0, `read ${JSON.stringify(row)}`);
      // create
      const template = await makeRow(coll, ownerId, true);
      const fresh = {};
      for (const f of coll.fields) {
        if (f.system || f.readonly || f.type.kind === 'password' || f.rules.write || template[f.name] === undefined)
          continue;
        if (f.unique && f.type.kind === 'relation' && f.type.target === usersName)
          fresh[f.name] = (await signUp('customer')).id; /* one row per account: a new account */
        else
          fresh[f.name] = f.unique ? sample(f) ?? template[f.name] : template[f.name];
      }
      if (fresh.email) fresh.email = `n-${randomUUID().slice(0, 8)}@example.com`;
      r = await call('POST', `/${coll.name}`, caller.token, fresh);
      const newRow = { ...template, ...fresh };
      assert.equal(r.status, allowed(coll, 'create', newRow, caller) ? 201 : 403, `create ${JSON.stringify(r.json)}`);
      // update: a harmless change of the row
      const patch = change(coll);
      if (patch) {
        r = await call('PATCH', `/${coll.name}?id=eq.${row.id}`, caller.token, patch);
        const before = allowed(coll, 'update', row, caller);
        const afterOk = allowed(coll, 'update', { ...row, ...patch }, caller);
        if (!before) assert.deepEqual([r.status, r.json], [200, []], 'update of a row the rule hides affects nothing');
        else if (!afterOk) assert.equal(r.status, 403);
        else assert.deepEqual([r.status, r.json.length], [200, 1]);
      }
      // delete: a fresh, unreferenced row of the caller's
      const victim = await makeRow(coll, ownerId, coll.name === usersName);
      r = await call('DELETE', `/${coll.name}?id=eq.${victim.id}`, caller.token);
      assert.equal(r.status, 200);
      assert.equal(r.json.length, allowed(coll, 'delete', victim, caller) ? 1 : 0, 'delete');
    });
  }
}
