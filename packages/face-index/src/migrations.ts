/** One schema change. Versions are applied in order, once, each in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The face index schema, for PGlite with its pgvector extension and for PostgreSQL with pgvector
 * alike. Never edit a released migration: add the next version.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'images, faces, people, clusters, enrollment, labels',
    sql: `
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE images (
  id               text PRIMARY KEY,
  source           text NOT NULL,
  original_key     text NOT NULL,
  status           text NOT NULL CHECK (status IN ('done', 'failed')),
  pipeline_version text NOT NULL,
  detect_version   text,
  embed_version    text,
  gallery_version  integer,
  face_count       integer NOT NULL DEFAULT 0,
  result_key       text NOT NULL,
  error_code       text,
  processed_at     timestamptz NOT NULL,
  indexed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_pipeline_version ON images (pipeline_version, id);
CREATE INDEX images_embed_version ON images (embed_version, id);

CREATE TABLE people (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  hidden     boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clusters (
  id            bigserial PRIMARY KEY,
  embed_version text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE faces (
  id              bigserial PRIMARY KEY,
  image_id        text NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  face_index      integer NOT NULL,
  embed_version   text NOT NULL,
  embedding_model text NOT NULL,
  box             real[] NOT NULL,
  score           real NOT NULL,
  quality         real,
  embedding       vector(128) NOT NULL,
  person_id       bigint REFERENCES people (id) ON DELETE SET NULL,
  person_source   text CHECK (person_source IN ('auto', 'hand', 'enrolled')),
  match_distance  real,
  cluster_id      bigint REFERENCES clusters (id) ON DELETE SET NULL,
  neighbour_count integer NOT NULL DEFAULT 0,
  UNIQUE (image_id, face_index, embed_version)
);
-- Approximate nearest neighbours for clustering, search and re-naming.
CREATE INDEX faces_embedding_hnsw ON faces USING hnsw (embedding vector_l2_ops);
-- The few faces that name others (enrolled or named by hand): a small exact-enough index.
CREATE INDEX faces_reference_hnsw ON faces USING hnsw (embedding vector_l2_ops) WHERE person_source IN ('enrolled', 'hand') AND person_id IS NOT NULL;
CREATE INDEX faces_person ON faces (person_id);
CREATE INDEX faces_cluster ON faces (cluster_id);

CREATE TABLE enrollment_examples (
  person_id   bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  image_id    text NOT NULL,
  face_index  integer NOT NULL,
  source      text NOT NULL,
  origin      text NOT NULL CHECK (origin IN ('enrollment', 'cluster')),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, face_index)
);
CREATE INDEX enrollment_examples_person ON enrollment_examples (person_id);

-- Names given by hand, by box, so they carry over to faces found again by another detector run.
CREATE TABLE face_labels (
  image_id  text NOT NULL,
  box       real[] NOT NULL,
  person_id bigint REFERENCES people (id) ON DELETE CASCADE,
  labelled_by text,
  labelled_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_labels_image ON face_labels (image_id);
`,
  },
  {
    version: 2,
    name: 'quality gate, suggestions',
    sql: `
-- Faces below the quality gate (blurred, tiny, turned, cut by the border): kept and searchable,
-- never clustered nor named automatically.
ALTER TABLE faces ADD COLUMN quality_ok boolean NOT NULL DEFAULT true;
-- "Probably X": evidence short of a name, shown for confirmation, never counted as a name.
ALTER TABLE faces ADD COLUMN suggested_person_id bigint REFERENCES people (id) ON DELETE SET NULL;
ALTER TABLE faces ADD COLUMN suggested_distance real;
CREATE INDEX faces_suggested ON faces (suggested_person_id, id) WHERE suggested_person_id IS NOT NULL;
-- "Not this person", answered on a suggestion: never suggested (nor named automatically) again.
CREATE TABLE suggestion_rejections (
  image_id   text NOT NULL,
  face_index integer NOT NULL,
  person_id  bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, face_index, person_id)
);
`,
  },
  {
    version: 3,
    name: 'people management: cover faces, ignored clusters, not-a-face labels, the people audit log',
    sql: `
-- The face shown for a person (null, or no longer theirs: their best face, chosen when read).
ALTER TABLE people ADD COLUMN cover_face_id bigint REFERENCES faces (id) ON DELETE SET NULL;
-- A cluster set aside by hand ("ignore"): not offered for naming.
ALTER TABLE clusters ADD COLUMN ignored boolean NOT NULL DEFAULT false;
-- "Not a face", said by hand: a label with no person, kept by box like a name.
ALTER TABLE face_labels ADD COLUMN not_face boolean NOT NULL DEFAULT false;
-- Who changed which person, cluster or face, when, and what undoes it. person_ids and image_ids
-- say which entries an erasure must remove with the person or image.
CREATE TABLE people_audit (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  summary    text NOT NULL,
  undo       jsonb NOT NULL,
  person_ids bigint[] NOT NULL DEFAULT '{}',
  image_ids  text[] NOT NULL DEFAULT '{}',
  undone_at  timestamptz,
  undone_by  text
);
CREATE INDEX people_audit_person_ids ON people_audit USING gin (person_ids);
CREATE INDEX people_audit_image_ids ON people_audit USING gin (image_ids);
`,
  },
  {
    version: 4,
    name: 'crowd calibration of the naming rule',
    sql: `
-- How crowded the library is around each person's examples (naming/crowd-calibration.ts): of
-- "sampled" library faces, "in_band" lie just beyond the person's name threshold. Counts only,
-- counted again when the examples (examples_key) change or the library (library_faces, its
-- highest face id then) has doubled; gone with the person, and all of them on any erasure.
CREATE TABLE person_crowds (
  person_id     bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  embed_version text NOT NULL,
  examples_key  text NOT NULL,
  library_faces bigint NOT NULL,
  sampled       integer NOT NULL,
  in_band       integer NOT NULL,
  counted_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (person_id, embed_version)
);
`,
  },
];
