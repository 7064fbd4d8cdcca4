// The client's bounds and retries, against a real HTTP server on 127.0.0.1 that answers as a
// flaky API server would (status codes, Retry-After, resets, cut bodies, endless continue,
// no answer). The same faults against the real apiserver are in test/e2e/faults.test.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { temporaryDir } from '../scenarios/cluster.mjs';
import { hasPrecondition, KubeClient, MAX_ATTEMPTS, MAX_IN_FLIGHT, MAX_PAGES, MAX_RESPONSE_BYTES, parseRetryAfter, USER_AGENT } from '../../src/kube/client.js';
import { gzipSync } from 'node:zlib';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { ApiError, ResponseLimitError } from '../../src/errors.js';
import { gapFor } from '../../src/snapshot/from-cluster.js';

const tmp = temporaryDir('sts-doctor-client-unit-');
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A server whose n-th request (from 1) is answered by `handler`; returns its URL. */
async function serve(handler: Handler, port = 0): Promise<string> {
  let n = 0;
  server = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server!.address() as { port: number }).port}`;
}

function client(url: string, timeoutMs = 5_000, user: unknown = { token: 't' }): KubeClient {
  const path = join(tmp, `kc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return new KubeClient(resolveKubeconfig({ kubeconfig: path }), timeoutMs);
}

const ok = (res: ServerResponse, body: unknown = { kind: 'Status', ok: true }): void => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const fail = (res: ServerResponse, code: number, headers: Record<string, string> = {}): void => {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ kind: 'Status', message: `injected ${code}`, reason: code === 429 ? 'TooManyRequests' : 'ServiceUnavailable', code }));
};

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('retries of reads', () => {
  it.each([429, 500, 502, 503, 504])('a GET answered %i once is sent again and succeeds', async (code) => {
    const url = await serve((_req, res, n) => (n === 1 ? fail(res, code) : ok(res)));
    const c = client(url);
    await expect(c.get('/x')).resolves.toEqual({ kind: 'Status', ok: true });
    expect(c.requests).toBe(2);
  });

  it('honours Retry-After (seconds)', async () => {
    const url = await serve((_req, res, n) => (n === 1 ? fail(res, 429, { 'Retry-After': '1' }) : ok(res)));
    const c = client(url);
    const t = Date.now();
    await c.get('/x');
    expect(Date.now() - t).toBeGreaterThanOrEqual(1_000);
  });

  it('does not wait for a Retry-After beyond 10 s: the 429 is the answer', async () => {
    const url = await serve((_req, res) => fail(res, 429, { 'Retry-After': '120' }));
    const c = client(url);
    const err = await rejection(c.get('/x'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(429);
    expect(err.transient).toBe(true);
    expect(c.requests).toBe(1);
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts, saying so, with a transient ApiError`, async () => {
    const url = await serve((_req, res) => fail(res, 503));
    const c = client(url);
    const err = await rejection(c.get('/apis/apps/v1/namespaces/a/statefulsets/b'));
    expect(c.requests).toBe(MAX_ATTEMPTS);
    expect(err.message).toMatch(/^GET \/apis\/apps\/v1\/namespaces\/a\/statefulsets\/b: 503 ServiceUnavailable: injected 503 \(5 attempts\)\.$/);
    expect(err.transient).toBe(true);
  });

  it('does not retry a 4xx other than 429', async () => {
    const url = await serve((_req, res) => fail(res, 404));
    const c = client(url);
    expect((await rejection(c.get('/x'))).status).toBe(404);
    expect(c.requests).toBe(1);
  });

  it('retries a reset connection and a body cut short', async () => {
    const url = await serve((req, res, n) => {
      if (n === 1) return req.socket.destroy();
      if (n === 2) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"kind":"Pod",');
        return setTimeout(() => req.socket.destroy(), 10);
      }
      ok(res, { kind: 'Pod' });
    });
    const c = client(url);
    await expect(c.get('/x')).resolves.toEqual({ kind: 'Pod' });
    expect(c.requests).toBe(3);
  });

  it('retries a refused connection until the server is back', async () => {
    const url = await serve((_req, res) => ok(res));
    const port = Number(new URL(url).port);
    await new Promise((r) => server!.close(r));
    const c = client(url);
    const p = c.get('/x');
    await new Promise((r) => setTimeout(r, 300));
    await serve((_req, res) => ok(res), port);
    await expect(p).resolves.toEqual({ kind: 'Status', ok: true });
    expect(c.requests).toBeGreaterThanOrEqual(2);
  });

  it('sends User-Agent sts-doctor/<version>', async () => {
    let agent: string | undefined;
    const url = await serve((req, res) => {
      agent = req.headers['user-agent'];
      ok(res);
    });
    await client(url).get('/x');
    expect(agent).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^sts-doctor\/\d+\.\d+\.\d+/);
  });
});

describe('exec credentials in the client', () => {
  /** A token plugin that counts its runs in a file and returns `token-<run>`. */
  function tokenPlugin(expiresInMs?: number): { user: unknown; runs: () => number } {
    const counter = join(tmp, `runs-${Math.random().toString(36).slice(2)}`);
    writeFileSync(counter, '');
    const script = join(tmp, `plugin-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      script,
      [
        `import { appendFileSync, readFileSync } from 'node:fs';`,
        `appendFileSync(${JSON.stringify(counter)}, 'x');`,
        `const n = readFileSync(${JSON.stringify(counter)}, 'utf8').length;`,
        `const status = { token: 'token-' + n };`,
        expiresInMs === undefined ? '' : `status.expirationTimestamp = new Date(Date.now() + ${expiresInMs}).toISOString();`,
        `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }));`,
      ].join('\n'),
    );
    return {
      user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script], interactiveMode: 'Never' } },
      runs: () => readFileSync(counter, 'utf8').length,
    };
  }

  it('a plugin cut short by the deadline: the request is not sent because the deadline passed (transient), not a plugin failure', async () => {
    const url = await serve((_req, res) => ok(res));
    const script = join(tmp, `hang-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(script, 'setInterval(() => {}, 1000);\n');
    const c = client(url, 5_000, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script], interactiveMode: 'Never' } });
    c.deadline = Date.now() + 300;
    const err = await rejection(c.get('/x'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toMatch(/deadline has passed/);
    expect(err.transient).toBe(true);
    expect(c.requests).toBe(0);
  });

  it('the token is sent as a bearer token; the plugin runs once for many requests', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization ?? '');
      ok(res);
    });
    const p = tokenPlugin();
    const c = client(url, 5_000, p.user);
    await Promise.all([c.get('/a'), c.get('/b'), c.get('/c')]);
    await c.get('/d');
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-1', 'Bearer token-1']);
    expect(p.runs()).toBe(1);
  });

  it('a 401 runs the plugin once more and sends the request again with the new token', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization ?? '');
      return req.headers.authorization === 'Bearer token-1' ? fail(res, 401) : ok(res);
    });
    const p = tokenPlugin();
    const c = client(url, 5_000, p.user);
    await expect(c.get('/x')).resolves.toEqual({ kind: 'Status', ok: true });
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(p.runs()).toBe(2);
  });

  it('an expired token is obtained again before the next request', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization ?? '');
      ok(res);
    });
    const p = tokenPlugin(300);
    const c = client(url, 5_000, p.user);
    await c.get('/a');
    await c.get('/b');
    await new Promise((r) => setTimeout(r, 400));
    await c.get('/c');
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  });
});

describe('writes are not retried unless it is surely safe', () => {
  it.each(['PATCH', 'DELETE', 'POST'] as const)('%s answered 503: sent once', async (method) => {
    const url = await serve((_req, res) => fail(res, 503));
    const c = client(url);
    const body = method === 'DELETE' ? { preconditions: { uid: 'u', resourceVersion: '1' } } : { metadata: { resourceVersion: '1' } };
    expect((await rejection(c.request('/x', { method, body }))).status).toBe(503);
    expect(c.requests).toBe(1);
  });

  it('a write without a precondition is not sent again even when the connection was refused', async () => {
    const c = client('http://127.0.0.1:1');
    await rejection(c.request('/x', { method: 'POST', body: {} }));
    expect(c.requests).toBe(1);
  });

  it('a DELETE with uid precondition is sent again after "connection refused" (it never reached the server)', async () => {
    const c = client('http://127.0.0.1:1');
    const err = await rejection(c.request('/x', { method: 'DELETE', body: { preconditions: { uid: 'u' } } }));
    expect(c.requests).toBe(MAX_ATTEMPTS);
    expect(err.message).toMatch(/connection refused \(5 attempts\)/);
  });

  it.each([
    ['DELETE', { preconditions: { uid: 'a', resourceVersion: '1' } }, undefined, true],
    ['DELETE', { preconditions: { resourceVersion: '1' } }, undefined, false],
    ['DELETE', undefined, undefined, false],
    ['PATCH', { metadata: { resourceVersion: '5' }, spec: {} }, 'application/strategic-merge-patch+json', true],
    ['PATCH', { spec: {} }, 'application/merge-patch+json', false],
    ['PATCH', [{ op: 'test', path: '/metadata/uid', value: 'u' }, { op: 'replace', path: '/spec/taints', value: [] }], 'application/json-patch+json', true],
    ['PATCH', [{ op: 'replace', path: '/spec/taints', value: [] }], 'application/json-patch+json', false],
    ['POST', { metadata: { resourceVersion: '5' } }, undefined, false],
  ] as const)('hasPrecondition(%s, %j, %s) = %s', (method, body, type, expected) => {
    expect(hasPrecondition(method, body, type)).toBe(expected);
  });
});

describe('bounds', () => {
  it('the deadline cuts a request that gets no answer', async () => {
    const url = await serve(() => {});
    const c = client(url, 30_000);
    c.deadline = Date.now() + 400;
    const t = Date.now();
    const err = await rejection(c.get('/x'));
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(err.message).toMatch(/no answer before the deadline/);
    expect(err.transient).toBe(true);
  });

  it('no retry waits past the deadline', async () => {
    const url = await serve((_req, res) => fail(res, 503, { 'Retry-After': '5' }));
    const c = client(url);
    c.deadline = Date.now() + 1_000;
    const t = Date.now();
    expect((await rejection(c.get('/x'))).status).toBe(503);
    expect(Date.now() - t).toBeLessThan(500);
    expect(c.requests).toBe(1);
  });

  it('after the deadline nothing is sent', async () => {
    const c = client('http://127.0.0.1:1');
    c.deadline = Date.now() - 1;
    const err = await rejection(c.get('/x'));
    expect(err.transient).toBe(true);
    expect(err.message).toMatch(/not sent, the deadline has passed/);
    expect(c.requests).toBe(0);
  });

  it('a slow body is bounded by the request timeout and not retried', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
    });
    const c = client(url, 500);
    const err = await rejection(c.get('/x'));
    expect(err.message).toMatch(/no answer within 1 s/);
    expect(c.requests).toBe(1);
  });

  it('an answer announced larger than the byte cap is refused at once', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(300 * 2 ** 20) });
      res.write('{');
    });
    const err = await rejection(client(url).get('/api/v1/namespaces/a/events'));
    expect(err).toBeInstanceOf(ResponseLimitError);
    expect(err.message).toBe('GET /api/v1/namespaces/a/events: the answer is larger than 256 MiB, the most sts-doctor reads in one response.');
    expect(err.transient).toBe(false);
  });

  it(`an endless metadata.continue stops after ${MAX_PAGES} pages`, async () => {
    const url = await serve((_req, res, n) => ok(res, { kind: 'EventList', apiVersion: 'v1', metadata: { continue: `c${n}` }, items: [{ metadata: { name: `e${n}` } }] }));
    const c = client(url);
    const err = await rejection(c.list('/api/v1/namespaces/a/events'));
    expect(err).toBeInstanceOf(ResponseLimitError);
    expect(err.message).toMatch(/more than 200 pages of 500/);
    expect(c.requests).toBe(MAX_PAGES);
  });

  it('an expired continue token (410 Gone) starts the list over once', async () => {
    const url = await serve((req, res, n) => {
      const cont = new URL(req.url!, 'http://x').searchParams.get('continue');
      if (n === 2) return fail(res, 410);
      ok(res, { kind: 'PodList', apiVersion: 'v1', metadata: cont ? {} : { continue: 'next' }, items: [{ metadata: { name: `p${n}` } }] });
    });
    // 1: first page (continue) → 2: 410 → 3: first page again (continue) → 4: last page.
    const c = client(url);
    const items = await c.list<{ metadata: { name: string }; kind: string }>('/api/v1/namespaces/a/pods');
    expect(items.map((i) => [i.kind, i.metadata.name])).toEqual([
      ['Pod', 'p3'],
      ['Pod', 'p4'],
    ]);
    expect(c.requests).toBe(4);
  });

  it('userinfo in the server URL is never in a message', async () => {
    const c = client('http://alice:s3cr3t@127.0.0.1:1');
    expect(c.server).toBe('http://127.0.0.1:1');
    const err = await rejection(c.get('/x'));
    expect(err.message).toMatch(/^Cannot reach the API server at http:\/\/127\.0\.0\.1:1: connection refused/);
    expect(err.message).not.toContain('s3cr3t');
  });
});

describe('one connection: keep-alive, gzip, a cap on requests in flight', () => {
  it(`never more than ${MAX_IN_FLIGHT} requests in flight, however many are asked for at once`, async () => {
    let now = 0;
    let most = 0;
    const url = await serve((_req, res) => {
      most = Math.max(most, ++now);
      setTimeout(() => {
        now--;
        ok(res);
      }, 30);
    });
    const c = client(url);
    await Promise.all(Array.from({ length: 40 }, (_, i) => c.get(`/x/${i}`)));
    expect(most).toBe(MAX_IN_FLIGHT);
    expect(c.maxInFlight).toBe(MAX_IN_FLIGHT);
    expect(c.inFlight).toBe(0);
    expect(c.requests).toBe(40);
  });

  it('reuses its connections: 40 requests over at most as many sockets as the cap', async () => {
    const sockets = new Set<unknown>();
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      setTimeout(() => ok(res), 5);
    });
    const c = client(url);
    await Promise.all(Array.from({ length: 40 }, (_, i) => c.get(`/x/${i}`)));
    for (let i = 0; i < 5; i++) await c.get('/y');
    expect(sockets.size).toBeGreaterThanOrEqual(1);
    expect(sockets.size).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  });

  it('asks for gzip and decompresses the answer; bytesReceived counts the compressed bytes', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ metadata: { name: `pod-${i}`, namespace: 'a' } }));
    const packed = gzipSync(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }));
    let asked: string | undefined;
    const url = await serve((req, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': String(packed.length) });
      res.end(packed);
    });
    const c = client(url);
    const pods = await c.list<{ metadata: { name: string } }>('/api/v1/namespaces/a/pods');
    expect(asked).toBe('gzip');
    expect(pods).toHaveLength(2000);
    expect(pods[1999]!.metadata.name).toBe('pod-1999');
    expect(c.bytesReceived).toBe(packed.length);
  });

  it('the byte cap bounds the decompressed answer (a small gzip body that inflates past it)', async () => {
    // Concatenated gzip members (RFC 1952 2.2): 257 of 1 MiB of spaces each, about 260 KiB in all.
    const member = gzipSync(Buffer.alloc(2 ** 20, 0x20));
    const bomb = Buffer.concat(Array.from({ length: MAX_RESPONSE_BYTES / 2 ** 20 + 1 }, () => member));
    expect(bomb.length).toBeLessThan(2 ** 20);
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(bomb);
    });
    const err = await rejection(client(url, 20_000).get('/api/v1/namespaces/a/events'));
    expect(err).toBeInstanceOf(ResponseLimitError);
    expect(err.message).toMatch(/larger than 256 MiB/);
  }, 30_000);

  it('a corrupt gzip body is a truncated answer: retried, then one sentence', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(Buffer.from('not gzip at all'));
    });
    const c = client(url);
    const err = await rejection(c.get('/x'));
    expect(err.message).toMatch(/closed before the whole answer arrived|corrupt/);
    expect(c.requests).toBe(MAX_ATTEMPTS);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['1', 1_000],
    [' 30 ', 30_000],
    ['Thu, 01 Jan 1970 00:00:05 GMT', 5_000],
    ['soon', undefined],
    [undefined, undefined],
  ] as const)('%j → %j ms', (value, ms) => {
    expect(parseRetryAfter(value, 0)).toBe(ms);
  });
});

describe('side reads that fail become gaps (gapFor)', () => {
  it.each([
    ['events', new ApiError('GET /e: 403 Forbidden: no', 403), 'forbidden'],
    ['volumeattachments', new ApiError('GET /v: 404 NotFound: no', 404), 'not-found'],
    ['events', new ApiError('GET /e: 503 ServiceUnavailable: x (5 attempts).', 503), 'unavailable'],
    ['nodes', new ApiError('Cannot reach the API server at https://h: connection refused (5 attempts).'), 'unavailable'],
    ['events', new ResponseLimitError('LIST /e: more than 200 pages of 500 (metadata.continue never ends).'), 'error'],
    ['storageclasses', new ApiError('GET /s: 400 BadRequest: x', 400), 'error'],
  ] as const)('%s, %s → %s', (resource, err, reason) => {
    expect(gapFor(resource, err)).toMatchObject({ resource, reason });
  });

  it.each([
    ['pods', new ApiError('GET /p: 503 ServiceUnavailable: x', 503)],
    ['persistentvolumeclaims', new ApiError('Cannot reach the API server at https://h: connection refused.')],
    ['pods', new ResponseLimitError('too large')],
    ['events', new ApiError('GET /e: 401 Unauthorized', 401)],
    ['events', new Error('not an ApiError')],
  ] as const)('%s, %s → fatal', (resource, err) => {
    expect(gapFor(resource, err)).toBeUndefined();
  });
});
