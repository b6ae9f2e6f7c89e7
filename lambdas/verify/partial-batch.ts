import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/**
 * Lambda's partial batch response for an SQS event source (ReportBatchItemFailures): every record
 * is processed at once, and only those that failed stay on the queue; the rest are deleted. (What
 * Powertools' BatchProcessor does for SQS; written out because the verify bundle's 600 KiB budget
 * has no room for the package's 6 KB.)
 */
export async function processRecords(
  records: readonly SQSRecord[],
  process: (record: SQSRecord) => Promise<unknown>,
  onFailure: (record: SQSRecord, error: unknown) => void,
): Promise<SQSBatchResponse> {
  const results = await Promise.allSettled(records.map((record) => process(record)));
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  results.forEach((result, index) => {
    const record = records[index] as SQSRecord;
    if (result.status === 'fulfilled') return;
    onFailure(record, result.reason);
    batchItemFailures.push({ itemIdentifier: record.messageId });
  });
  return { batchItemFailures };
}
