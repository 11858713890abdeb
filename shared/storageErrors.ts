/**
 * What a failed Azure Storage call says about itself: the SDK's RestError carries the HTTP status and
 * the service's error code (https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes).
 */

/** The HTTP status of a storage failure, if it has one. */
export function storageStatusOf(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "statusCode" in e ? (e as { statusCode?: number }).statusCode : undefined;
}

/** The storage service's error code (`BlobNotFound`, `ContainerNotFound`, ...), if it has one. */
export function storageCodeOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? (e as { code?: string }).code : undefined;
}
