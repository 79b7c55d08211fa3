package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * Reads what a gateway request carries: its path id, its JSON body and the fields in it, its form
 * fields. Every check that fails throws an {@link ApiError} (400, or 413 for a body over its limit)
 * before the handler has published anything; nothing here keeps state.
 */
final class RequestParsing {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What ids (path ids, conversation ids) look like: short, and safe in a URL and a log line. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private RequestParsing() {}

  static String pathId(Context ctx) {
    String id = ctx.pathParam("id");
    if (!ID.matcher(id).matches()) {
      throw new ApiError(400, "invalid_id", "ids match " + ID.pattern());
    }
    return id;
  }

  static JsonNode json(Context ctx) {
    try {
      JsonNode body = JSON.readTree(boundedBody(ctx, GatewayConfig.MAX_JSON_BYTES));
      if (body == null || !body.isObject()) {
        throw new ApiError(400, "malformed_json", "the body must be a JSON object");
      }
      return body;
    } catch (JsonProcessingException e) {
      throw new ApiError(
          400,
          "malformed_json",
          "the body is not valid JSON (line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ")");
    } catch (IOException e) {
      // Parsing bytes already in memory: only Jackson's own exceptions can come from it.
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The body, read up to {@code limit} bytes. Javalin checks only a declared Content-Length against
   * its maximum; a chunked body has none and would be read whole into memory.
   */
  private static byte[] boundedBody(Context ctx, int limit) {
    long declared = ctx.contentLength();
    if (declared > limit) {
      throw requestTooLarge(declared, limit);
    }
    try (InputStream in = ctx.req().getInputStream()) {
      byte[] bytes = in.readNBytes(limit + 1);
      if (bytes.length > limit) {
        throw requestTooLarge(-1, limit);
      }
      return bytes;
    } catch (IOException e) {
      throw new ApiError(400, "unreadable_body", "the request body could not be read");
    }
  }

  private static ApiError requestTooLarge(long size, int limit) {
    return new ApiError(
        413,
        "request_too_large",
        "JSON bodies may have at most "
            + limit
            + " bytes, this one has "
            + (size < 0 ? "more" : Long.toString(size)));
  }

  /** A string field of a JSON body, or null when absent; 400 when it is not a string. */
  static String text(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new ApiError(400, "invalid_field", "'" + field + "' must be a string");
    }
    return v.asText();
  }

  static String formField(Context ctx, String name, String fallback) {
    String v = ctx.formParam(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
