/**
 * Turning an upload's image into bytes: inline images within a size limit, and references fetched
 * under an allow-list with address, redirect, size, time, content-type and SHA-256 checks ({@link
 * io.shoplens.processor.images.HttpImageResolver}). Refusals carry a typed reason for the
 * dead-letter topic.
 */
package io.shoplens.processor.images;
