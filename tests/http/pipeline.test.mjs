// HTTP/1.1 pipelining: many requests written at once on one socket are
// answered in order, including bodies, HEAD and deferred answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseResponses, rawExchange, startServer } from './helpers.mjs';

describe('pipelining', { concurrency: true }, () => {
  let server;
  before(async () => { server = await startServer([]); });
  after(async () => { await server.stop(); });

  test('100 pipelined requests on one socket are answered in order', async () => {
    let text = '';
    for (let i = 0; i < 100; i++) {
      text += `GET /echo/${i}?n=${i} HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-${i}\r\n` +
        (i === 99 ? 'Connection: close\r\n' : '') + '\r\n';
    }
    const res = await rawExchange(server.port, text, { timeout: 5000 });
    const responses = parseResponses(res.data);
    assert.equal(responses.length, 100);
    responses.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-request-id'], `pipe-${i}`);
      const echo = JSON.parse(r.body);
      assert.equal(echo.path, `/echo/${i}`);
      assert.equal(echo.query, `n=${i}`);
    });
    assert.ok(res.closed);
  });

  test('pipelined POST bodies, HEAD and a deferred answer keep their order', async () => {
    const reqs = [];
    const kinds = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) {
        const body = JSON.stringify({ i });
        reqs.push(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nX-Request-Id: p-${i}\r\n\r\n${body}`);
        kinds.push('post');
      } else if (i % 3 === 1) {
        reqs.push(`HEAD /bench HTTP/1.1\r\nHost: x\r\nX-Request-Id: p-${i}\r\n\r\n`);
        kinds.push('head');
      } else {
        reqs.push(`GET /defer?ms=${(i % 5) * 10} HTTP/1.1\r\nHost: x\r\nX-Request-Id: p-${i}\r\n\r\n`);
        kinds.push('defer');
      }
    }
    reqs.push('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    kinds.push('last');
    // split the stream at odd places to exercise partial reads
    const whole = reqs.join('');
    const pieces = [];
    for (let at = 0; at < whole.length; at += 37) pieces.push(whole.slice(at, at + 37));
    const res = await rawExchange(server.port, pieces, { timeout: 5000 });
    const responses = parseResponses(res.data, { noBody: (i) => kinds[i] === 'head' });
    assert.equal(responses.length, kinds.length);
    responses.forEach((r, i) => {
      assert.equal(r.status, 200, `response ${i}`);
      if (kinds[i] === 'last') return;
      assert.equal(r.headers['x-request-id'], `p-${i}`);
      if (kinds[i] === 'post') assert.equal(JSON.parse(JSON.parse(r.body).body).i, i);
      if (kinds[i] === 'head') assert.equal(r.headers['content-length'], '200');
      if (kinds[i] === 'defer') assert.equal(JSON.parse(r.body).deferred, true);
    });
  });
});
