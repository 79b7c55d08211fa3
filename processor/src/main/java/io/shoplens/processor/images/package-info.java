/**
 * Turning an image into bytes: inline images within a size limit, and references fetched under an
 * allow-list with address, redirect, size, time, content-type and SHA-256 checks ({@link
 * io.shoplens.processor.images.HttpImageResolver}). Refusals carry a typed reason for the
 * dead-letter topic.
 *
 * <p>Policy and transport are apart: {@code FetchPolicy} decides (what a reference must declare,
 * where it may point, which answers and redirects are accepted, how many bytes), {@code
 * HttpClientTransport} moves bytes with Apache HttpClient 5, pinned through its {@code DnsResolver}
 * to the one address the policy checked, and {@code ReferenceFetcher} joins them under one
 * deadline. Knows neither Kafka nor ONNX Runtime ({@code ArchitectureGuardTest}).
 */
package io.shoplens.processor.images;
