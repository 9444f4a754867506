/**
 * Building blocks for pipeline tasks, exported as `sluice/pipeline`: streaming COPY in and out of
 * Postgres, Parquet parts in the lake, idempotent partition replacement, and OpenLineage lineage.
 * The shipped DAGs (`dags/daily_etl.ts` and the others) are built on them; see README, "Write your
 * own pipeline".
 */
export { copyIn, copyOut, copyRows, copyTextLine, quoteIdent, quoteQualified, type SqlSource } from './copy';
export { listLakeKeys, putLakeObject, replacePrefix } from './lake';
export { lakeDataset, LINEAGE_NAMESPACE, recordLineage, runEvent, sourceTable, warehouseTable, type DatasetRef, type Lineage } from './lineage';
export { encodeParquet, writeParquetParts, type ParquetColumn, type ParquetWriteResult, type WriteParquetOptions } from './parquet';
export { replacePartition, type PartitionLoad } from './partition';
