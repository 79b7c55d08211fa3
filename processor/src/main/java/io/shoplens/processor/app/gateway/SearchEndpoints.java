package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.processor.topology.Topics;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's product search: {@code POST /v1/search} publishes a search request and answers with
 * its results, {@code GET /v1/search/{id}} reads them later. Searches are keyed by their request
 * id; their results come from the {@link SearchView} that the {@link ResultsFeed} fills. A search
 * is refused (503) while the feed cannot search, and with the HTTP status its {@code failureReason}
 * maps to when ShopLens refused it.
 */
record SearchEndpoints(
    GatewayConfig config,
    Topics topics,
    ResultsView view,
    SearchView searches,
    ResultsFeed feed,
    EventPublisher publisher,
    GatewayCounters counters) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Publishes a {@code ProductSearchRequested} and answers with its {@code ProductSearchResults}
   * once the feed reads them, or with 202 and the address to read them from when they take longer
   * than {@link GatewayConfig#searchTimeout()}. The request thread is not held while waiting.
   */
  void search(Context ctx) {
    if (!feed.searchable()) {
      throw new ApiError(
          503,
          "search_unavailable",
          !feed.assigned()
              ? "this gateway is not reading its topics yet; try again shortly"
              : "this gateway cannot search: "
                  + Topics.SEARCH_REQUESTS
                  + " and "
                  + Topics.SEARCH_RESULTS
                  + " did not both exist when it started (ShopLens searches where it has a"
                  + " retrieval model)");
    }
    JsonNode body = RequestParsing.json(ctx);
    String requestId = UUID.randomUUID().toString();
    ProductSearchRequested request =
        SearchRequestJson.parse(body, requestId, config, RequestParsing.ID, Instant.now());
    if (request.getUploadId() != null && !view.knows(request.getUploadId())) {
      throw ApiError.unknownUpload(request.getUploadId());
    }
    CompletableFuture<ObjectNode> results = searches.expect(requestId);
    try {
      publisher.publish(topics.searchRequests(), requestId, request);
    } catch (ApiError e) {
      searches.forget(requestId);
      throw e;
    }
    counters.published("searches");
    long wait = config.searchTimeout().toMillis();
    ctx.future(
        () ->
            results
                .copy()
                .completeOnTimeout(null, wait, TimeUnit.MILLISECONDS)
                .thenAccept(r -> searchReply(ctx, requestId, r)));
  }

  void getSearch(Context ctx) {
    String requestId = RequestParsing.pathId(ctx);
    CompletableFuture<ObjectNode> results =
        searches
            .get(requestId)
            .orElseThrow(
                () ->
                    new ApiError(
                        404,
                        "unknown_search",
                        "no search " + requestId + " is known here (or it has expired)"));
    searchReply(ctx, requestId, results.getNow(null));
  }

  /**
   * The HTTP answer for a search: 202 while its results have not arrived; 200 with them when the
   * search ran (even when it found nothing); otherwise, by {@code failureReason}, 400 for a request
   * ShopLens refused (UNKNOWN_FILTER_VALUE, and the reasons the gateway checks too), 409 for an
   * upload ShopLens has no image features for yet (UNKNOWN_UPLOAD: not captioned yet), 503 while no
   * catalog product has features of the retrieval model (CATALOG_NOT_EMBEDDED), 502 when the model
   * failed (SEARCH_FAILED, or a reason this gateway does not know). A refusal's body is the usual
   * {@code {code, message}} plus the {@code results}.
   */
  private void searchReply(Context ctx, String requestId, ObjectNode results) {
    String location = "/v1/search/" + requestId;
    if (results == null) {
      ObjectNode out = JSON.createObjectNode();
      out.put("requestId", requestId);
      out.put("status", "pending");
      out.put("results", location);
      ctx.status(202).header("Location", location).json(out);
      return;
    }
    JsonNode reason = results.path("failureReason");
    if (reason.isNull() || reason.isMissingNode()) {
      ctx.status(200).json(results);
      return;
    }
    SearchFailureReason failure = failureReason(reason.asText());
    int status =
        switch (failure) {
          case EMPTY_QUERY, QUERY_TOO_LONG, INVALID_LIMIT, UNKNOWN_FILTER_VALUE -> 400;
          case UNKNOWN_UPLOAD -> 409;
          case CATALOG_NOT_EMBEDDED -> 503;
          case SEARCH_FAILED, UNKNOWN -> 502;
        };
    String code =
        switch (failure) {
          case UNKNOWN_UPLOAD -> "upload_not_searchable";
          case UNKNOWN -> "search_failed";
          default -> SearchRequestJson.code(failure);
        };
    if (status == 503) {
      ctx.header("Retry-After", "30");
    }
    ObjectNode out = counters.refusal(code, results.path("failureMessage").asText(failure.name()));
    out.put("requestId", requestId);
    out.set("results", results);
    ctx.status(status).json(out);
  }

  private static SearchFailureReason failureReason(String name) {
    try {
      return SearchFailureReason.valueOf(name);
    } catch (IllegalArgumentException e) {
      return SearchFailureReason.UNKNOWN; // a newer ShopLens's reason
    }
  }
}
