import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiresAt, LifecycleConfigurationError, parseLifecycleConfiguration, ruleCovers } from '@facepipe/devstack';

const xml = (rules: string) => `<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`;

test('lifecycle rules: tag, prefix, both (And) and the older top-level Prefix', () => {
  const rules = parseLifecycleConfiguration(
    xml(
      '<Rule><ID>tagged</ID><Filter><Tag><Key>facepipe-lifecycle</Key><Value>intermediate</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule>' +
        '<Rule><ID>both</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>' +
        '<Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Disabled</Status><Expiration><Date>2027-01-01T00:00:00Z</Date></Expiration></Rule>' +
        '<Rule><ID>moves</ID><Filter></Filter><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>',
    ),
  );
  assert.deepEqual(rules, [
    { id: 'tagged', enabled: true, prefix: '', tags: { 'facepipe-lifecycle': 'intermediate' }, days: 7 },
    { id: 'both', enabled: true, prefix: 'logs/', tags: { a: '1', b: '2' }, days: 1 },
    { id: 'old', enabled: false, prefix: 'tmp/', tags: {}, date: Date.parse('2027-01-01T00:00:00Z') },
    { id: 'moves', enabled: true, prefix: '', tags: {} },
  ]);
  const [tagged, both, old] = rules;
  assert.equal(ruleCovers(tagged!, 'faces/x/faces.json', { 'facepipe-lifecycle': 'intermediate' }), true);
  assert.equal(ruleCovers(tagged!, 'faces/x/faces.json', undefined), false);
  assert.equal(ruleCovers(both!, 'logs/x', { a: '1' }), false, 'every tag of the filter');
  assert.equal(ruleCovers(both!, 'logs/x', { a: '1', b: '2', c: '3' }), true);
  assert.equal(ruleCovers(both!, 'other/x', { a: '1', b: '2' }), false);
  assert.equal(ruleCovers(old!, 'tmp/x', undefined), false, 'a disabled rule covers nothing');
});

test('expiry: days from creation rounded up to the next midnight UTC, or a fixed date, whichever is first', () => {
  const rule = { id: 'r', enabled: true, prefix: '', tags: {}, days: 2 };
  assert.equal(expiresAt(rule, Date.parse('2026-03-01T10:00:00Z')), Date.parse('2026-03-04T00:00:00Z'));
  assert.equal(expiresAt(rule, Date.parse('2026-03-01T00:00:00Z')), Date.parse('2026-03-03T00:00:00Z'));
  assert.equal(expiresAt({ ...rule, date: Date.parse('2026-03-02T00:00:00Z') }, Date.parse('2026-03-01T10:00:00Z')), Date.parse('2026-03-02T00:00:00Z'));
  assert.equal(expiresAt({ id: 'r', enabled: true, prefix: '', tags: {} }, 0), undefined);
});

test('a lifecycle configuration S3 would refuse is refused', () => {
  const refused = (body: string, message: RegExp) => assert.throws(() => parseLifecycleConfiguration(body), (err: Error) => err instanceof LifecycleConfigurationError && message.test(err.message));
  refused('<NotLifecycle/>', /no LifecycleConfiguration/);
  refused(xml(''), /at least one Rule/);
  refused(xml('<Rule><ID>a</ID><Status>On</Status></Rule>'), /Status must be Enabled or Disabled/);
  refused(xml('<Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>'), /positive whole number/);
  refused(xml('<Rule><ID>a</ID><Status>Enabled</Status></Rule><Rule><ID>a</ID><Status>Enabled</Status></Rule>'), /two rules with the ID a/);
});
