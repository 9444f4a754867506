/**
 * Building blocks for pipeline tasks, exported as `sluice/pipeline`: streaming COPY in and out of
 * Postgres, Parquet parts in the lake, idempotent partition replacement, and OpenLineage lineage.
 * The shipped DAGs (`dags/daily_etl.ts` and the others) are built on them; see README, "Write your
 * own pipeline".
 */
export { copyIn, copyOut, csvLine, quoteIdent, quoteQualified, type SqlSource } from './copy';
export { EXCEPTION_CATEGORIES, type ExceptionCategory } from './exception-categories';
export { listLakeKeys, putLakeObject, replacePrefix } from './lake';
export { lakeDataset, LINEAGE_NAMESPACE, recordLineage, runEvent, sourceTable, warehouseTable, type DatasetRef, type Lineage } from './lineage';
export { writeParquetParts, type ConstantColumn, type ParquetColumn, type ParquetWriteResult, type WriteParquetOptions } from './parquet';
export { replacePartition, swapPartition, type PartitionLoad, type PartitionSwap } from './partition';
