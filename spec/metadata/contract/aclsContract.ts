/** Contract: access-control entries (addAcl, removeAcl, listAcls). */
import { expect } from 'chai';
import type { AclEntry } from '../../../src/metadata/aclRules.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import { rejection, useStore, type StoreHarnessFactory } from './harness.js';

const alice: AclEntry = {
  principal: 'alice',
  permission: 'allow',
  operation: 'produce',
  resourceType: 'topic',
  patternType: 'prefix',
  resourceName: 'orders.',
};
const bobDeny: AclEntry = {
  principal: 'bob',
  permission: 'deny',
  operation: 'read',
  resourceType: 'group',
  patternType: 'literal',
  resourceName: 'billing:eu',
};
const admin: AclEntry = {
  principal: '*',
  permission: 'allow',
  operation: 'admin',
  resourceType: 'cluster',
  patternType: 'literal',
  resourceName: 'cluster',
};

export function aclsContract(factory: StoreHarnessFactory): void {
  describe('ACLs', () => {
    const ctx = useStore(factory);

    it('adds, lists in order and removes entries; a second add or remove changes nothing', async () => {
      const { store, harness, clock } = ctx();
      expect(await store.listAcls()).to.deep.equal([]);
      expect(await store.addAcl(alice)).to.equal(true);
      expect(await store.addAcl(bobDeny)).to.equal(true);
      expect(await store.addAcl(admin)).to.equal(true);
      expect(await store.addAcl({ ...alice })).to.equal(false);
      // Another store over the same data (another agent) sees the same entries.
      const other = await harness.open(clock.read);
      expect(await other.listAcls()).to.deep.equal([admin, bobDeny, alice]);
      expect(await store.removeAcl({ ...bobDeny })).to.equal(true);
      expect(await store.removeAcl(bobDeny)).to.equal(false);
      // Equal in every field: the same name with another pattern type is another entry.
      expect(await store.removeAcl({ ...alice, patternType: 'literal' })).to.equal(false);
      expect(await other.listAcls()).to.deep.equal([admin, alice]);
    });

    it('keeps names with any printable characters, up to 1024 long', async () => {
      const { store } = ctx();
      const odd: AclEntry = { ...alice, principal: 'CN=ü,O="x"\\ *', resourceName: `${'t'.repeat(1023)}:` };
      expect(await store.addAcl(odd)).to.equal(true);
      expect(await store.listAcls()).to.deep.equal([odd]);
    });

    const bad: [string, Partial<Record<keyof AclEntry, unknown>>, string][] = [
      ['an empty principal', { principal: '' }, 'ACL principal must be 1 to 1024 characters'],
      ['a principal too long', { principal: 'p'.repeat(1025) }, 'ACL principal must be 1 to 1024 characters'],
      ['a control character', { resourceName: 'a\nb' }, 'ACL resource name holds a control character'],
      ['an unknown permission', { permission: 'maybe' }, "ACL permission must be allow or deny, got 'maybe'"],
      ['an unknown resource type', { resourceType: 'user' }, "must be topic, group or cluster, got 'user'"],
      ['a group operation on a topic', { operation: 'read' }, 'ACL operation on a topic must be one of'],
      ['an unknown pattern type', { patternType: 'regex' }, "ACL pattern type must be literal or prefix, got 'regex'"],
      ['a prefix cluster', { ...admin, patternType: 'prefix' }, "a cluster ACL names the literal resource 'cluster'"],
      ['a cluster not named cluster', { ...admin, resourceName: 'c2' }, 'a cluster ACL names the literal resource'],
    ];
    for (const [what, change, message] of bad) {
      it(`refuses ${what} with INVALID_REQUEST and stores nothing`, async () => {
        const { store } = ctx();
        const entry = { ...alice, ...change } as AclEntry;
        const error = await rejection(store.addAcl(entry), InvalidRequestError, 'INVALID_REQUEST');
        expect(error.message).to.contain(message);
        expect(error.retriable).to.equal(false);
        await rejection(store.removeAcl(entry), InvalidRequestError, 'INVALID_REQUEST');
        expect(await store.listAcls()).to.deep.equal([]);
      });
    }
  });
}
