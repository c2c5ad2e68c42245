import {
  objectKeys,
  personFromMemberKey,
  type GalleryDocument,
  type GalleryMember,
  type GalleryPointer,
  type ObjectStore,
} from '@facepipe/core';

/** The gallery's storage in S3: members (who is enrolled with which photo), built versions, the pointer. */
export class GalleryRepository {
  constructor(readonly store: ObjectStore) {}

  readPointer(): Promise<GalleryPointer | undefined> {
    return this.store.getJson<GalleryPointer>(objectKeys.galleryCurrent);
  }

  readVersion(key: string): Promise<GalleryDocument | undefined> {
    return this.store.getJson<GalleryDocument>(key);
  }

  async readCurrent(): Promise<GalleryDocument | undefined> {
    const pointer = await this.readPointer();
    return pointer ? this.readVersion(pointer.key) : undefined;
  }

  /** Writes a new version, then moves the pointer to it (readers never see a half-written gallery). */
  async publish(doc: GalleryDocument): Promise<GalleryPointer> {
    const key = objectKeys.galleryVersion(doc.version);
    await this.store.putJson(key, doc);
    const pointer: GalleryPointer = {
      version: doc.version,
      key,
      embedVersion: doc.embedVersion,
      people: doc.people.length,
      faces: doc.people.reduce((n, p) => n + p.faces.length, 0),
      createdAt: doc.createdAt,
    };
    await this.store.putJson(objectKeys.galleryCurrent, pointer);
    return pointer;
  }

  async putMember(member: GalleryMember): Promise<void> {
    await this.store.putJson(objectKeys.galleryMember(member.person, member.imageId), member);
  }

  async removeMember(person: string, imageId: string): Promise<void> {
    await this.store.delete(objectKeys.galleryMember(person, imageId));
  }

  /** Every enrolled photo, person by person. */
  async *members(): AsyncIterable<GalleryMember> {
    for await (const item of this.store.list(objectKeys.galleryMembersPrefix)) {
      if (!personFromMemberKey(item.key)) continue;
      const member = await this.store.getJson<GalleryMember>(item.key);
      if (member) yield member;
    }
  }
}
