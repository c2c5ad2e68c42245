import { objectKeys, type GalleryDocument, type GalleryPointer, type ObjectStore } from '@facepipe/core';

/** A person of the current gallery version with their enrolled faces. */
export interface GalleryPerson {
  name: string;
  faces: { imageId: string; cropIndex: number }[];
}

/** The gallery classify workers name faces with: its current version's people and their enrolled faces. */
export class GalleryReads {
  constructor(readonly store: ObjectStore) {}

  /** People in the current gallery version with their enrolled faces. */
  async people(): Promise<{ galleryVersion: number | null; people: GalleryPerson[] }> {
    const pointer = await this.store.getJson<GalleryPointer>(objectKeys.galleryCurrent);
    if (!pointer) return { galleryVersion: null, people: [] };
    const doc = await this.store.getJson<GalleryDocument>(pointer.key);
    return {
      galleryVersion: pointer.version,
      people: (doc?.people ?? []).map((p) => ({ name: p.name, faces: p.faces.map((f) => ({ imageId: f.imageId, cropIndex: f.cropIndex })) })),
    };
  }
}
