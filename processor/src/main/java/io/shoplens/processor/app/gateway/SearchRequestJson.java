package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchFilters;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/search} into the {@link ProductSearchRequested} the gateway
 * publishes.
 *
 * <p>Checked here, with ShopLens's own search limits ({@link GatewayConfig#searchMaxQueryChars()},
 * {@link GatewayConfig#searchMaxLimit()}) and the rule {@code SearchProcessor} applies (the query
 * is stripped; a blank query counts as none), so that what ShopLens would answer with EMPTY_QUERY,
 * QUERY_TOO_LONG or INVALID_LIMIT is refused at the door and never published. The refusal codes are
 * those reasons in lower case. What only ShopLens can judge (a category its attribute vocabulary
 * does not know, an upload it has no image features for) comes back in the results. An unknown
 * field is refused rather than ignored, so that a misspelt one ({@code qurey}) does not become a
 * search for nothing.
 */
final class SearchRequestJson {
  /** The fields a search body may have. */
  static final List<String> FIELDS = List.of("query", "uploadId", "filters", "limit", "userId");

  static final List<String> FILTER_FIELDS = List.of("category", "inStockOnly");

  /** The limit when the body names none: the schema's default, within the configured maximum. */
  private static final int DEFAULT_LIMIT = 10;

  private SearchRequestJson() {}

  /**
   * The search in {@code body}.
   *
   * @throws ApiError 400 naming the field and what was wrong with it
   */
  static ProductSearchRequested parse(
      JsonNode body, String requestId, GatewayConfig config, Pattern ids, Instant now) {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!FIELDS.contains(name)) {
        throw new ApiError(
            400,
            "invalid_field",
            "a search has no field '" + name + "'; expected one of " + String.join(", ", FIELDS));
      }
    }
    String query = RequestParsing.text(body, "query");
    String uploadId = RequestParsing.text(body, "uploadId");
    String userId = RequestParsing.text(body, "userId");
    if (uploadId != null && !ids.matcher(uploadId).matches()) {
      throw new ApiError(400, "invalid_id", "uploadId must match " + ids.pattern());
    }
    boolean noQuery = query == null || query.strip().isEmpty();
    if (noQuery && uploadId == null) {
      throw refused(
          SearchFailureReason.EMPTY_QUERY,
          "send a non-blank 'query', an 'uploadId' to search with its photo, or both");
    }
    if (!noQuery) {
      String stripped = query.strip();
      int length = stripped.codePointCount(0, stripped.length());
      if (length > config.searchMaxQueryChars()) {
        throw refused(
            SearchFailureReason.QUERY_TOO_LONG,
            "the query has "
                + length
                + " characters, at most "
                + config.searchMaxQueryChars()
                + " are searched");
      }
    }
    int limit = limit(body.get("limit"), config.searchMaxLimit());
    return ProductSearchRequested.newBuilder()
        .setRequestId(requestId)
        .setUserId(userId == null || userId.isBlank() ? "web" : userId)
        .setQuery(noQuery ? null : query)
        .setUploadId(uploadId)
        .setFilters(filters(body.get("filters")))
        .setLimit(limit)
        .setRequestedAt(now)
        .build();
  }

  /** The HTTP code of a refusal for {@code reason}: its name in lower case. */
  static String code(SearchFailureReason reason) {
    return reason.name().toLowerCase(Locale.ROOT);
  }

  private static int limit(JsonNode v, int max) {
    if (v == null || v.isNull()) {
      return Math.min(DEFAULT_LIMIT, max);
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1 || v.asInt() > max) {
      throw refused(
          SearchFailureReason.INVALID_LIMIT,
          "limit must be an integer in [1, " + max + "], got " + v);
    }
    return v.asInt();
  }

  private static SearchFilters filters(JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw new ApiError(400, "invalid_field", "'filters' must be a JSON object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      String name = it.next().getKey();
      if (!FILTER_FIELDS.contains(name)) {
        throw new ApiError(
            400,
            "invalid_field",
            "filters have no field '"
                + name
                + "'; expected one of "
                + String.join(", ", FILTER_FIELDS));
      }
    }
    JsonNode inStock = v.get("inStockOnly");
    if (inStock != null && !inStock.isNull() && !inStock.isBoolean()) {
      throw new ApiError(400, "invalid_field", "'filters.inStockOnly' must be true or false");
    }
    String category = RequestParsing.text(v, "category");
    return SearchFilters.newBuilder()
        .setCategory(category == null || category.isBlank() ? null : category.strip())
        .setInStockOnly(inStock == null || inStock.isNull() || inStock.asBoolean())
        .build();
  }

  private static ApiError refused(SearchFailureReason reason, String message) {
    return new ApiError(400, code(reason), message);
  }
}
