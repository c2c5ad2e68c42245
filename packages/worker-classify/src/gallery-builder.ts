import {
  enrollmentPhotos,
  objectKeys,
  type EnrollmentReport,
  type GalleryDocument,
  type GalleryFace,
  type Logger,
  type ObjectStore,
  type ResultDocument,
} from '@facepipe/core';
import { syncResultDocuments, type FaceLibrary } from '@facepipe/face-index';
import { trainLinearSvm } from '@facepipe/vision';
import type { GalleryRepository } from './gallery-repository.js';

/**
 * Turns enrollment photos into gallery versions. Enrollment photos go through the same
 * pipeline as any other; afterwards each is checked (exactly one face, else it is rejected with
 * NO_FACE or MULTIPLE_FACES and reported), accepted ones become members, and a new gallery
 * version is built from all members and published. Runs one job at a time (gallery queue).
 */
export class GalleryBuilder {
  constructor(
    readonly store: ObjectStore,
    readonly repository: GalleryRepository,
    readonly log?: Logger,
    /** The face index's people: enrolled photos become examples there, and matching faces across the library are named at once. */
    readonly library?: FaceLibrary,
  ) {}

  async enroll(batchId: string): Promise<EnrollmentReport> {
    const { items, examples } = await enrollmentPhotos(this.store, batchId);
    for (const item of items) {
      if (item.status === 'enrolled') await this.repository.putMember({ person: item.person, imageId: item.imageId!, source: item.source, batchId, enrolledAt: new Date().toISOString() });
    }
    const gallery = await this.rebuild(`enroll ${batchId}`);
    if (this.library) {
      const changed: string[] = [];
      for (const [person, faces] of examples) changed.push(...(await this.library.enroll(person, faces)).imageIds);
      const rewritten = await syncResultDocuments(this.store, this.library.index, changed);
      this.log?.info('enrolled in the face index', { batchId, people: examples.size, resultsRenamed: rewritten });
    }
    const report: EnrollmentReport = { schema: 'facepipe.enrollment/1', batchId, galleryVersion: gallery.version, items, createdAt: new Date().toISOString() };
    await this.store.putJson(objectKeys.enrollReport(batchId), report);
    this.log?.info('enrollment done', { batchId, enrolled: items.filter((i) => i.status === 'enrolled').length, rejected: items.filter((i) => i.status === 'rejected').length, galleryVersion: gallery.version });
    return report;
  }

  /**
   * Builds a new version from every member's current result. Faces are compared only with faces
   * of the same embedding model, so the gallery uses the model most members' results have; the
   * rest are listed as skipped until they are re-embedded.
   */
  async rebuild(reason: string): Promise<GalleryDocument> {
    const candidates: { person: string; imageId: string; face?: GalleryFace; embedVersion?: string; model?: string; reason?: string }[] = [];
    for await (const member of this.repository.members()) {
      const result = await this.store.getJson<ResultDocument>(objectKeys.result(member.imageId));
      const face = result?.status === 'done' && result.faceCount === 1 ? result.faces[0] : undefined;
      if (!result || !face || !result.versions.embed || face.embedding.length === 0) {
        candidates.push({ person: member.person, imageId: member.imageId, reason: result ? 'result has no single embedded face' : 'no result' });
        continue;
      }
      candidates.push({
        person: member.person,
        imageId: member.imageId,
        embedVersion: result.versions.embed.tag,
        model: result.versions.embed.recognition,
        face: { imageId: member.imageId, faceIndex: face.index, cropKey: face.cropKey, cropIndex: face.cropIndex, embedding: face.embedding },
      });
    }
    const votes = new Map<string, number>();
    for (const c of candidates) if (c.embedVersion) votes.set(c.embedVersion, (votes.get(c.embedVersion) ?? 0) + 1);
    const embedVersion = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
    const people = new Map<string, GalleryFace[]>();
    const skipped: GalleryDocument['skipped'] = [];
    for (const c of candidates) {
      if (c.face && c.embedVersion === embedVersion) people.set(c.person, [...(people.get(c.person) ?? []), c.face]);
      else skipped.push({ person: c.person, imageId: c.imageId, reason: c.reason ?? `embedded with ${c.embedVersion}, gallery uses ${embedVersion}` });
    }
    const sortedPeople = [...people.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, faces]) => ({ name, faces }));
    const samples = sortedPeople.flatMap((p) => p.faces.map((f) => ({ name: p.name, embedding: f.embedding })));
    const svm = sortedPeople.length >= 2 ? trainLinearSvm(samples) : null;
    const previous = await this.repository.readPointer();
    const doc: GalleryDocument = {
      schema: 'facepipe.gallery/1',
      version: (previous?.version ?? 0) + 1,
      createdAt: new Date().toISOString(),
      reason,
      embedVersion,
      embeddingModel: candidates.find((c) => c.embedVersion === embedVersion)?.model ?? null,
      people: sortedPeople,
      svm,
      skipped,
    };
    const pointer = await this.repository.publish(doc);
    this.log?.info('gallery published', { galleryVersion: doc.version, people: pointer.people, faces: pointer.faces, skipped: skipped.length, reason });
    return doc;
  }
}
