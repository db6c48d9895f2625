// Helpers for the HTTP layer's black-box tests: start the echo server
// (tests/http/echo_server.c), talk to it over raw sockets and with Node's
// http client, and read HTTP/1.1 responses byte-exactly. Node built-ins only.
//
// The server binary is $HTTP_ECHO, else build/tests/http_echo.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binary = process.env.HTTP_ECHO
  ? path.resolve(process.env.HTTP_ECHO)
  : path.join(root, 'build', 'tests', 'http_echo');

// Start the echo server with extra flags; resolves once it prints its port.
export function startServer(args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['--host', '127.0.0.1', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let exited = null;
    const exitPromise = new Promise((done) => proc.on('exit', (code, signal) => {
      exited = { code, signal };
      done(exited);
    }));
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0 && !server.port) {
        server.port = Number(out.slice(0, nl));
        resolve(server);
      }
    });
    proc.on('error', reject);
    exitPromise.then((e) => {
      if (!server.port) reject(new Error(`echo server exited (${e.code ?? e.signal}): ${err}`));
    });
    const server = {
      port: 0,
      proc,
      get stderr() { return err; },
      exited: () => exited,
      // SIGTERM, then wait for the exit (graceful stop); anything but a
      // clean exit 0 (a sanitizer report, a crash) throws
      async stop() {
        if (!exited) proc.kill('SIGTERM');
        const e = await exitPromise;
        if (e.code !== 0) {
          throw new Error(`echo server exited with ${e.code ?? e.signal}: ${err.slice(-4000)}`);
        }
        return { ...e, stderr: err };
      },
    };
  });
}

// One raw exchange: connect, write each chunk (with optional pauses), then
// collect bytes until the server closes or `timeout` ms pass.
export function rawExchange(port, chunks, { timeout = 3000, pauseMs = 0, end = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts = [];
    let closed = false;
    let errored = null;
    const started = Date.now();
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed, error: errored, ms: Date.now() - started });
    };
    const timer = setTimeout(finish, timeout);
    sock.on('data', (d) => parts.push(d));
    sock.on('error', (e) => { errored = e.code; });
    sock.on('close', () => { closed = true; finish(); });
    sock.on('connect', async () => {
      const list = Array.isArray(chunks) ? chunks : [chunks];
      for (const c of list) {
        if (sock.destroyed) return;
        sock.write(c);
        if (pauseMs) await sleep(pauseMs);
      }
      if (end) sock.end();
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Parse every complete HTTP/1.1 response in buf (Content-Length framed,
// or no body for HEAD/204/304 when `noBody` says so).
export function parseResponses(buf, { noBody = () => false } = {}) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const head = buf.subarray(pos, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers = {};
    const rawHeaders = [];
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).toLowerCase();
      const value = line.slice(i + 1).trim();
      rawHeaders.push([name, value]);
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = headEnd + 4;
    let len = 0;
    if (status === 100) {
      out.push({ status, headers, rawHeaders, body: '' });
      pos = bodyStart;
      continue;
    }
    if (!noBody(out.length, status) && status !== 204 && status !== 304) {
      len = Number(headers['content-length'] ?? 0);
    }
    if (bodyStart + len > buf.length) break;
    const body = buf.subarray(bodyStart, bodyStart + len).toString('utf8');
    out.push({ status, headers, rawHeaders, body });
    pos = bodyStart + len;
  }
  return out;
}

// Node's http client, body collected; a fresh connection unless agent given.
export function request(port, { method = 'GET', path: p = '/echo', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The PostgREST error shape: exactly code, message, details, hint.
export function assertErrorShape(assert, text, code) {
  const obj = JSON.parse(text);
  assert.deepEqual(Object.keys(obj).sort(), ['code', 'details', 'hint', 'message']);
  assert.equal(obj.code, code);
  assert.equal(typeof obj.message, 'string');
  return obj;
}
