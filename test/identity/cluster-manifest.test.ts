import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, readManifestFile } from '../../src/identity/cluster-manifest.js';
import { tempDir, thrown } from './helpers.js';

const valid = {
  cluster: 'prod',
  nodes: [
    { name: 'a', tenant: 'acme', roles: ['sub', 'pub', 'sub'] },
    { name: 'b', tenant: 'acme', validDays: 30 },
  ],
};

describe('cluster manifest', () => {
  it('parses a valid manifest, normalizing roles and filling defaults', () => {
    expect(parseManifest(valid)).toEqual({
      cluster: 'prod',
      nodes: [
        { name: 'a', tenant: 'acme', roles: ['pub', 'sub'], validDays: 365 },
        { name: 'b', tenant: 'acme', roles: [], validDays: 30 },
      ],
    });
    expect(parseManifest({ ...valid, validDays: 10 }).nodes[0]!.validDays).toBe(10);
  });

  it('names the path of every error inside the document', () => {
    const node = (o: object) => ({ name: 'x', tenant: 't', ...o });
    const cases: Array<[unknown, string]> = [
      [[], '(document)'],
      [{ ...valid, cluster: 'Prod' }, 'cluster'],
      [{ cluster: 'prod' }, 'nodes'],
      [{ ...valid, extra: 1 }, 'extra'],
      [{ ...valid, validDays: 0 }, 'validDays'],
      [{ cluster: 'prod', nodes: [node({}), node({ name: 'y' }), node({ name: 'z', tenant: 'Bad Tenant' })] }, 'nodes[2].tenant'],
      [{ cluster: 'prod', nodes: [node({}), 'n'] }, 'nodes[1]'],
      [{ cluster: 'prod', nodes: [node({ name: '-x' })] }, 'nodes[0].name'],
      [{ cluster: 'prod', nodes: [node({}), node({})] }, 'nodes[1].name'],
      [{ cluster: 'prod', nodes: [node({ roles: 'admin' })] }, 'nodes[0].roles'],
      [{ cluster: 'prod', nodes: [node({ roles: ['ok', 'NOT OK'] })] }, 'nodes[0].roles[1]'],
      [{ cluster: 'prod', nodes: [node({ roles: Array.from({ length: 17 }, (_, i) => `r${i}`) })] }, 'nodes[0].roles'],
      [{ cluster: 'prod', nodes: [node({ role: ['admin'] })] }, 'nodes[0].role'],
      [{ cluster: 'prod', nodes: [node({ validDays: 1.5 })] }, 'nodes[0].validDays'],
      [{ cluster: 'prod', nodes: [node({ tenant: undefined })] }, 'nodes[0].tenant'],
    ];
    for (const [doc, path] of cases) {
      const e = thrown(() => parseManifest(doc, 'm.json'));
      expect(e.code, path).toBe('HEARSAY_ERR_MANIFEST');
      expect(e.message, path).toContain(`m.json: ${path} `);
    }
  });

  it('says which earlier entry a duplicate name repeats', () => {
    const e = thrown(() => parseManifest({ cluster: 'p', nodes: [{ name: 'a', tenant: 't' }, { name: 'b', tenant: 't' }, { name: 'a', tenant: 't' }] }));
    expect(e.message).toContain('nodes[2].name duplicates nodes[0].name');
  });

  it('reads files, reporting missing files and bad JSON with the file name', () => {
    const dir = tempDir();
    const path = join(dir, 'cluster.json');
    writeFileSync(path, JSON.stringify(valid));
    expect(readManifestFile(path).nodes).toHaveLength(2);
    writeFileSync(path, '{"cluster": ');
    const bad = thrown(() => readManifestFile(path));
    expect(bad.code).toBe('HEARSAY_ERR_MANIFEST');
    expect(bad.message).toContain(path);
    expect(bad.message).toContain('not valid JSON');
    const missing = thrown(() => readManifestFile(join(dir, 'nope.json')));
    expect(missing.code).toBe('HEARSAY_ERR_MANIFEST');
    expect(missing.message).toContain('does not exist');
  });

  it('accepts the example manifest shipped in scripts/', () => {
    const m = readManifestFile(new URL('../../scripts/cluster.example.json', import.meta.url).pathname);
    expect(m.nodes.length).toBeGreaterThan(0);
  });
});
