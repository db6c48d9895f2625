// The guard as a hostile client meets it, and the operator's views of it:
// probes are stored as data but reported, tampered tokens are reported, a
// burst of 404s bans the address (403 before any database work), rate
// limits answer 429 with Retry-After in each API's own error shape, and
// /_/metrics and /_/threats are for the service key or the metrics token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createClient } from '@supabase/supabase-js';
import { startServer, api, bin, root } from './helpers.mjs';

const shop = join(root, 'examples', 'shop.spec');
const METRICS_TOKEN = 'scrape-token-0123456789';

function keysOf(server) {
  const out = spawnSync(bin, ['keys', shop, '--db', server.db], { encoding: 'utf8' }).stdout;
  return { anon: out.match(/^anon\s+(\S+)/m)[1], service: out.match(/^service\s+(\S+)/m)[1] };
}

test('probes and tampered tokens are reported, 404 bursts ban, operators see it all', async () => {
  const server = await startServer(shop, {
    env: { SPECBASE_GUARD: 'on', SPECBASE_RATE_LIMIT: '1000/2000', SPECBASE_METRICS_TOKEN: METRICS_TOKEN },
  });
  try {
    const { service } = keysOf(server);
    const asService = { Authorization: `Bearer ${service}` };

    // the operator views need a credential
    let r = await fetch(`${server.url}/_/metrics`);
    assert.equal(r.status, 401);
    r = await fetch(`${server.url}/_/threats`, { headers: { Authorization: `Bearer ${keysOf(server).anon}` } });
    assert.equal(r.status, 401, 'the anon key is not an operator');

    // a SQL probe in a filter is just a value that matches nothing
    r = await api(server, 'GET', `/product?name=eq.${encodeURIComponent("' or 1=1--")}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, []);
    // script text is stored verbatim, as data
    const title = '<script>alert(1)</script> tutorial';
    r = await api(server, 'POST', '/product', {
      body: { name: title, price: 3, category: 'books' },
      headers: { ...asService, Prefer: 'return=representation' },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json[0].name, title);
    assert.equal(r.headers.get('cache-control'), 'no-store', 'answers to a credential are not cached');

    // a token with a forged signature
    const forged = service.slice(0, -4) + (service.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    r = await api(server, 'GET', '/product', { headers: { Authorization: `Bearer ${forged}` } });
    assert.equal(r.status, 401);

    r = await fetch(`${server.url}/_/threats`, { headers: asService });
    assert.equal(r.status, 200);
    const threats = await r.json();
    const kinds = threats.events.map((e) => e.kind);
    assert.ok(kinds.includes('injection_probe'), JSON.stringify(threats));
    assert.ok(kinds.includes('jwt_tampering'), JSON.stringify(threats));
    const probe = threats.events.find((e) => e.kind === 'injection_probe' && e.probes.includes('sql'));
    assert.equal(probe.address, '127.0.0.1');
    // the body's script probe is counted; the ring keeps one event per kind
    // and address every ten seconds
    assert.equal(threats.counts.injection_probe, 2);
    assert.equal(threats.counts.jwt_tampering, 1);
    assert.deepEqual(threats.bans, []);

    // the metrics, with the scrape token
    r = await fetch(`${server.url}/_/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const metrics = await r.text();
    assert.match(metrics, /^specbase_http_requests_total\{route="rest",status="201"\} 1$/m);
    assert.match(metrics, /^specbase_http_requests_total\{route="rest",status="401"\} 1$/m);
    assert.match(metrics, /^specbase_threat_events_total\{kind="jwt_tampering"\} 1$/m);
    assert.match(metrics, /^specbase_writer_units_total [1-9]/m);
    assert.match(metrics, /^specbase_writer_batch_units_count [1-9]/m);
    assert.match(metrics, /^specbase_db_duration_seconds_count [1-9]/m);
    assert.match(metrics, /^specbase_http_request_duration_seconds_count\{route="rest"\} [1-9]/m);

    // id enumeration: 50 404s within a minute ban the address
    for (let i = 0; i < 50; i++) {
      r = await api(server, 'GET', `/no_such_table_${i}`);
      assert.equal(r.status, 404);
    }
    r = await api(server, 'GET', '/product');
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'SB012');
    assert.ok(Number(r.headers.get('retry-after')) > 500, 'the ban lasts about ten minutes');
    // nothing is written while banned, not even with the service key
    r = await api(server, 'POST', '/product', { body: { name: 'Pen', price: 2, category: 'office' }, headers: asService });
    assert.equal(r.status, 403);
    const rows = spawnSync('sqlite3', [server.db, 'SELECT count(*) FROM product'], { encoding: 'utf8' });
    assert.equal(rows.stdout.trim(), '1');
    // supabase-js sees the refusal as an error, not as data
    const client = createClient(server.url, service, { auth: { persistSession: false } });
    const { data, error } = await client.from('product').select('*');
    assert.equal(data, null);
    assert.equal(error.code, 'SB012');
    // health checks are never refused (a load balancer must not drop the server)
    r = await fetch(`${server.url}/_/health`);
    assert.equal(r.status, 200);

    // the events are in the audit trail: `specbase threats` lists them and
    // the ban, and the chain still verifies
    let lines = [];
    for (let i = 0; i < 200; i++) {
      const t = spawnSync(bin, ['threats', '--db', server.db, '--json'], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stderr);
      lines = t.stdout.trim().split('\n').map((l) => JSON.parse(l));
      if (lines.some((l) => l.ban)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recorded = lines.filter((l) => l.op === 'threat').map((l) => l.changes);
    assert.deepEqual([...new Set(recorded.map((e) => e.kind))].sort(), ['enumeration', 'injection_probe', 'jwt_tampering']);
    const ban = lines.find((l) => l.ban).ban;
    assert.equal(ban.address, '127.0.0.1');
    assert.equal(ban.kind, 'enumeration');
    assert.ok(ban.remaining_seconds > 500 && ban.remaining_seconds <= 600, JSON.stringify(ban));
    const table = spawnSync(bin, ['threats', '--db', server.db], { encoding: 'utf8' });
    assert.match(table.stdout, /active bans\n\s+127\.0\.0\.1\s+enumeration\s+\d+s left/);
    const v = spawnSync(bin, ['audit', 'verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await server.stop();
  }
});

test('rate limits answer 429 with Retry-After, in PostgREST and GoTrue shapes', async () => {
  // slow refills (one token per 100 s), so that a loaded machine cannot
  // refill a bucket between two requests
  const server = await startServer(shop, {
    env: { SPECBASE_GUARD: 'on', SPECBASE_RATE_LIMIT: '0.01/6', SPECBASE_AUTH_RATE_LIMIT: '0.01/2' },
  });
  try {
    const { anon } = keysOf(server);
    const client = createClient(server.url, anon, { auth: { persistSession: false } });
    const attempts = [];
    let last;
    for (let i = 0; i < 3; i++) {
      const { error } = await client.auth.signInWithPassword({ email: 'nobody@example.com', password: 'not the password' });
      attempts.push(error.status);
      last = error;
    }
    assert.deepEqual(attempts, [400, 400, 429], 'the sign-in endpoint has a stricter limit');
    assert.equal(last.code, 'over_request_rate_limit');

    // three of the address's six tokens are left for the REST API
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      last = await api(server, 'GET', '/product');
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(last.json.code, 'SB013');
    assert.ok(Number(last.headers.get('retry-after')) >= 50, last.headers.get('retry-after'));
  } finally {
    await server.stop();
  }
});

test('the mitigation policy and the ban length come from the environment', async () => {
  const server = await startServer(shop, {
    env: { SPECBASE_GUARD: 'on', SPECBASE_THREAT_POLICY: 'injection_probe=ban,enumeration=log', SPECBASE_BAN_SECONDS: '30' },
  });
  try {
    let r = await api(server, 'GET', '/product');
    assert.equal(r.status, 200);
    r = await api(server, 'GET', `/product?name=eq.${encodeURIComponent("' union select password from user--")}`);
    assert.equal(r.status, 403, 'a probe bans at once under this policy');
    assert.equal(r.json.code, 'SB012');
    r = await api(server, 'GET', '/product');
    assert.equal(r.status, 403);
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 30, String(wait));
  } finally {
    await server.stop();
  }
});

test("the spec's security block sets the limits and the policy; the environment overrides it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'specbase-guard-'));
  const spec = join(dir, 'guarded.spec');
  writeFileSync(spec, `app guarded

security {
  limit address: 3/min
  on injection_probe: ban 90 seconds
}

collection note {
  body text
  allow read anyone
}
`);
  try {
    let server = await startServer(spec, { env: { SPECBASE_GUARD: 'on' } });
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await api(server, 'GET', '/note')).status, 200, `request ${i + 1} of 3 per minute`);
      const r = await api(server, 'GET', '/note');
      assert.equal(r.status, 429, 'the fourth request in a minute is over the limit');
      assert.equal(r.json.code, 'SB013');
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait > 1 && wait <= 20, `one request comes back every 20 s; Retry-After ${wait}`);
    } finally {
      await server.stop();
    }
    server = await startServer(spec, { env: { SPECBASE_GUARD: 'on', SPECBASE_RATE_LIMIT: '1000' } });
    try {
      for (let i = 0; i < 5; i++)
        assert.equal((await api(server, 'GET', '/note')).status, 200, 'the environment raised the limit');
      let r = await api(server, 'GET', `/note?body=eq.${encodeURIComponent("1' or '1'='1")}`);
      assert.equal(r.status, 403, "the spec's policy bans a prober");
      r = await api(server, 'GET', '/note');
      assert.equal(r.status, 403);
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait > 60 && wait <= 90, `the spec's ban lasts 90 s; Retry-After ${wait}`);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('behind a trusted proxy the guard sees each client; elsewhere X-Forwarded-For is ignored', async () => {
  const probe = `/product?name=eq.${encodeURIComponent("' or 1=1--")}`;
  const from = (xff) => (xff ? { 'X-Forwarded-For': xff } : {});
  let server = await startServer(shop, {
    env: { SPECBASE_GUARD: 'on', SPECBASE_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8', SPECBASE_THREAT_POLICY: 'injection_probe=ban' },
  });
  try {
    // the client wrote a fake address of its own; the proxy appended the real one
    let r = await api(server, 'GET', probe, { headers: from('6.6.6.6, 203.0.113.9') });
    assert.equal(r.status, 403, 'the prober is banned at once');
    r = await api(server, 'GET', '/product', { headers: from('203.0.113.9') });
    assert.equal(r.status, 403, 'and stays banned');
    r = await api(server, 'GET', '/product', { headers: from('203.0.113.9, 10.1.2.3') });
    assert.equal(r.status, 403, 'through a second proxy too');
    r = await api(server, 'GET', '/product', { headers: from('198.51.100.7') });
    assert.equal(r.status, 200, 'another client is not');
    r = await api(server, 'GET', '/product', { headers: from('203.0.113.9, 198.51.100.7') });
    assert.equal(r.status, 200, 'an address to the left of the client is not believed');
    r = await api(server, 'GET', '/product');
    assert.equal(r.status, 200, 'nor is the proxy itself');
    const { service } = keysOf(server);
    r = await fetch(`${server.url}/_/threats`, { headers: { Authorization: `Bearer ${service}`, ...from('198.51.100.7') } });
    const threats = await r.json();
    assert.deepEqual(threats.bans.map((b) => b.address), ['203.0.113.9']);
    assert.equal(threats.events.find((e) => e.kind === 'injection_probe').address, '203.0.113.9');
  } finally {
    await server.stop();
  }
  server = await startServer(shop, { env: { SPECBASE_GUARD: 'on', SPECBASE_THREAT_POLICY: 'injection_probe=ban' } });
  try {
    let r = await api(server, 'GET', probe, { headers: from('203.0.113.9') });
    assert.equal(r.status, 403);
    r = await api(server, 'GET', '/product', { headers: from('198.51.100.7') });
    assert.equal(r.status, 403, 'without trusted proxies the peer is the client, whatever it claims');
  } finally {
    await server.stop();
  }
});

test('a malformed guard setting stops the server at start', () => {
  for (const [name, value] of [['SPECBASE_RATE_LIMIT', 'fast'], ['SPECBASE_GUARD', 'maybe'], ['SPECBASE_AUTH_RATE_LIMIT', '5/0'],
    ['SPECBASE_THREAT_POLICY', 'injection_probe=shoot'], ['SPECBASE_THREAT_POLICY', 'sql=ban'], ['SPECBASE_BAN_SECONDS', '0'],
    ['SPECBASE_TRUSTED_PROXIES', '10.0.0.0/33'], ['SPECBASE_TRUSTED_PROXIES', 'proxy.local']]) {
    const dir = mkdtempSync(join(tmpdir(), 'specbase-guard-'));
    const r = spawnSync(bin, ['serve', shop, '--db', join(dir, 'x.db'), '--port', '0'], {
      env: { ...process.env, [name]: value }, encoding: 'utf8', timeout: 10000,
    });
    assert.notEqual(r.status, 0, `${name}=${value} must be refused`);
    rmSync(dir, { recursive: true, force: true });
    assert.match(r.stderr, new RegExp(name));
  }
});
