// Starts the real specbase binary on a spec with a fresh database in a
// temporary directory, and gives the test its base URL. The binary is
// SPECBASE_BIN (the runner sets build/specbase or build-san/specbase).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const bin = process.env.SPECBASE_BIN || join(root, 'build', 'specbase');

export async function startServer(spec, { env = {}, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'specbase-api-'));
  const db = join(dir, 'test.db');
  const specPath = spec.startsWith('/') ? spec : join(here, 'specs', spec);
  // The guard's rate limits would throttle a test suite that talks from one
  // address hundreds of times a second; guard.test.mjs turns it on.
  const child = spawn(bin, ['serve', specPath, '--db', db, '--port', '0', ...args], {
    env: { SPECBASE_GUARD: 'off', ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  return {
    url,
    rest: `${url}/rest/v1`,
    db,
    dir,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
        child.kill('SIGTERM');
        const result = await exited;
        rmSync(dir, { recursive: true, force: true });
        return result;
      }
      rmSync(dir, { recursive: true, force: true });
      return { code: child.exitCode };
    },
  };
}

// A raw fetch to the REST API, returning status, headers and parsed body.
export async function api(server, method, path, { body, headers = {} } = {}) {
  const res = await fetch(`${server.rest}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
