import type { QueryResult, QueryResultRow } from 'pg';

/** A pool or one checked-out client: what repositories run their SQL on. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}
