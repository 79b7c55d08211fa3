package io.shoplens.processor.app.gateway;

import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/uploads/{id}/events}: an upload's results as Server-Sent Events, each {@link
 * ResultsView.Event} as it arrives, with a keep-alive comment every 15 s of quiet. The stream ends
 * when the client goes away; its subscription to the view ends with it. An upload this instance's
 * view does not know is refused with 404 before the stream starts.
 */
final class ResultsStream {
  private final ResultsView view;

  ResultsStream(ResultsView view) {
    this.view = view;
  }

  void events(Context ctx) throws Exception {
    String uploadId = RequestParsing.pathId(ctx);
    BlockingQueue<ResultsView.Event> queue =
        view.subscribe(uploadId).orElseThrow(() -> ApiError.unknownUpload(uploadId));
    new SseHandler(client -> stream(client, uploadId, queue)).handle(ctx);
  }

  // The request's thread carries the stream: events are few and short-lived per upload.
  private void stream(SseClient client, String uploadId, BlockingQueue<ResultsView.Event> queue) {
    try {
      while (!client.terminated()) {
        ResultsView.Event e = queue.poll(15, TimeUnit.SECONDS);
        if (e == null) {
          client.sendComment("keep-alive");
        } else {
          client.sendEvent(e.name(), e.data());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      view.unsubscribe(uploadId, queue);
    }
  }
}
