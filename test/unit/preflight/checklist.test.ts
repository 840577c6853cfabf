/**
 * The checklist as people and scripts read it: a failure's fix printed under it, skips never a failure,
 * the summary line, and AWS's "denied" errors told from the others.
 */
import { describe, expect, it } from 'vitest';
import { checklist, fail, formatChecklist, isAccessDenied, pass, skip } from '#core/preflight/checklist.ts';

describe('the preflight checklist', () => {
  it('fails when a line fails, never for a skip; prints each function with whose credentials, and the fix under a failure', () => {
    const ok = checklist('prod', 'prod', { sweeper: 'arn:aws:iam::1:role/r' }, [pass('sweeper', 'a', 'A', 'fine'), skip('sweeper', 'b', 'B', 'nothing in scope')]);
    expect(ok.ok).toBe(true);
    const bad = checklist('prod', 'prod', {}, [pass('sweeper', 'a', 'A', 'fine'), fail('pod-events', 'c', 'C', 'broken', 'do this')]);
    expect(bad.ok).toBe(false);
    const text = formatChecklist(bad);
    expect(text).toBe(
      [
        'quiesce doctor: stage prod, cluster prod',
        '',
        'sweeper (as the caller)',
        '  PASS  A: fine',
        '',
        'pod-events (as the caller)',
        '  FAIL  C: broken',
        '        fix: do this',
        '',
        '1 passed, 1 failed, 0 skipped: fix the failures above before turning dry run off',
        '',
      ].join('\n'),
    );
    expect(formatChecklist(ok)).toMatch(/sweeper \(as arn:aws:iam::1:role\/r\)\n {2}PASS {2}A: fine\n {2}SKIP {2}B: nothing in scope\n\n1 passed, 0 failed, 1 skipped: the stage is ready\n$/);
  });

  it('tells AWS\'s denials from other errors', () => {
    for (const name of ['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'NotAuthorizedForSourceException', 'AuthorizationErrorException']) expect(isAccessDenied({ name }), name).toBe(true);
    for (const name of ['ThrottlingException', 'ResourceNotFoundException', 'InternalFailure']) expect(isAccessDenied({ name }), name).toBe(false);
  });
});
