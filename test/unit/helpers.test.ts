// Pure helpers: parsing and formatting that the rules and commands rely on.
import { describe, expect, it } from 'vitest';
import { pullCause } from '../../src/rules/image-pull.js';
import { parseSelector, newestTimestamp } from '../../src/snapshot/from-dump.js';
import { formatAge, selectorMatches, selectorString, eventTime } from '../../src/snapshot/view.js';
import { parseNow, requestTimeoutMs, checkReadOptions } from '../../src/commands/options.js';
import { UsageError } from '../../src/errors.js';
import type { KubeEvent } from '../../src/snapshot/types.js';

describe('pullCause', () => {
  // Runtime texts as containerd and CRI-O word them (the kubelet passes them through).
  it.each([
    ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/mongo:9.9": failed to resolve reference "docker.io/library/mongo:9.9": docker.io/library/mongo:9.9: not found', 'not-found'],
    ['ErrImagePull', 'reading manifest 9.9 in quay.io/x/y: manifest unknown', 'not-found'],
    ['ErrImagePull', 'failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://r/token: 401 Unauthorized', 'unauthorized'],
    ['ErrImagePull', 'pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed', 'unauthorized'],
    ['ErrImagePull', 'dial tcp: lookup registry.internal on 10.96.0.10:53: no such host', 'unreachable'],
    ['ErrImagePull', 'failed to do request: Head "https://r/v2/x/manifests/1": dial tcp 10.0.0.1:443: i/o timeout', 'unreachable'],
    ['ErrImagePull', 'x509: certificate signed by unknown authority', 'unreachable'],
    ['ErrImagePull', 'unexpected status code 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit', 'rate-limited'],
    ['InvalidImageName', 'Failed to apply default image tag "Mongo:7": couldn\'t parse image name', 'invalid-name'],
    ['ErrImageNeverPull', 'Container image "mongo:7" is not present with pull policy of Never', 'never-pull'],
    ['ImagePullBackOff', 'Back-off pulling image "mongo:7"', 'unknown'],
  ])('%s %s -> %s', (reason, text, cause) => {
    expect(pullCause(reason, [text])).toBe(cause);
  });
});

describe('label selectors', () => {
  it('parses and renders the kubectl forms', () => {
    const s = parseSelector('app=quiz,tier!=web,env in (a, b),role notin (x),has,!gone');
    expect(s).toEqual({
      matchLabels: { app: 'quiz' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['web'] },
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'role', operator: 'NotIn', values: ['x'] },
        { key: 'has', operator: 'Exists' },
        { key: 'gone', operator: 'DoesNotExist' },
      ],
    });
    expect(selectorMatches(s, { app: 'quiz', env: 'a', has: '' })).toBe(true);
    expect(selectorMatches(s, { app: 'quiz', env: 'a', has: '', gone: '1' })).toBe(false);
    expect(selectorMatches(s, { app: 'quiz', env: 'c', has: '' })).toBe(false);
    expect(selectorString({ matchLabels: { app: 'quiz' }, matchExpressions: [{ key: 'x', operator: 'In', values: ['1', '2'] }] })).toBe('app=quiz,x in (1,2)');
  });
  it('rejects what it cannot parse', () => {
    expect(() => parseSelector('a=b,(c')).toThrow(UsageError);
  });
});

describe('time', () => {
  it('formats ages as kubectl does', () => {
    expect([formatAge(5), formatAge(119), formatAge(200), formatAge(3600), formatAge(3 * 86400 + 7200), formatAge(undefined)]).toEqual(['5s', '119s', '3m20s', '1h', '3d2h', '?']);
  });
  it('orders events by series, lastTimestamp, eventTime, creation', () => {
    const e = (x: Partial<KubeEvent>): KubeEvent => ({ metadata: { name: 'e', creationTimestamp: '2026-01-01T00:00:00Z' }, involvedObject: {}, ...x });
    expect(eventTime(e({ series: { lastObservedTime: '2026-01-01T00:00:09Z' }, eventTime: '2026-01-01T00:00:01Z' }))).toBe(Date.parse('2026-01-01T00:00:09Z'));
    expect(eventTime(e({ lastTimestamp: '2026-01-01T00:00:05Z', eventTime: '2026-01-01T00:00:07Z' }))).toBe(Date.parse('2026-01-01T00:00:05Z'));
    expect(eventTime(e({ lastTimestamp: null, eventTime: '2026-01-01T00:00:07.123456Z' }))).toBe(Date.parse('2026-01-01T00:00:07.123Z'));
    expect(eventTime(e({}))).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });
  it('finds the newest timestamp of a dump', () => {
    expect(newestTimestamp([{ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }, { status: { conditions: [{ lastHeartbeatTime: '2026-01-02T00:00:00Z' }] } }])).toBe('2026-01-02T00:00:00Z');
  });
});

describe('options', () => {
  it('parses --request-timeout', () => {
    expect([requestTimeoutMs('30'), requestTimeoutMs('5s'), requestTimeoutMs('1m'), requestTimeoutMs('0'), requestTimeoutMs(undefined)]).toEqual([30000, 5000, 60000, 0, 30000]);
    expect(() => requestTimeoutMs('soon')).toThrow(UsageError);
  });
  it('validates --now and combinations', () => {
    expect(parseNow('2026-11-21T05:38:34.5+01:00')).toBe('2026-11-21T04:38:34Z');
    expect(() => parseNow('yesterday')).toThrow(UsageError);
    expect(() => checkReadOptions(undefined, { now: '2026-11-21T05:38:34Z' })).toThrow(/--now applies only with --from/);
    expect(() => checkReadOptions('quiz', { selector: 'app=quiz' })).toThrow(UsageError);
  });
});
