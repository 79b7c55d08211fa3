package io.shoplens.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.registry.RestClientException;
import io.shoplens.registry.SchemaMetadata;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The demo's in-memory Schema Registry ({@code mock://<scope>}) over Confluent's REST API, so that
 * {@code shoplens produce}, the gateway and any Confluent client in another process can use the
 * registry the demo's ShopLens uses. Only what those clients call: register and look up a schema
 * under a subject, schemas by id and by GUID, a subject's versions (latest or by number), the
 * subject list, compatibility checks and levels. No authentication: a demo, on the loopback
 * interface unless the demo is told otherwise. Public for {@code io.shoplens.bench.Soak}, whose
 * ShopLens instance runs in another process.
 */
public final class DemoRegistryServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private final MockSchemaRegistryClient registry;
  private final Javalin app;
  private final String bindAddress;

  private DemoRegistryServer(MockSchemaRegistryClient registry, Javalin app, String bindAddress) {
    this.registry = registry;
    this.app = app;
    this.bindAddress = bindAddress;
  }

  /**
   * Serves {@code registry} on {@code port} of the loopback interface (0: any free port).
   *
   * @throws io.javalin.util.JavalinBindException if the port is taken
   */
  public static DemoRegistryServer start(MockSchemaRegistryClient registry, int port) {
    return start(registry, Demo.DEFAULT_BIND_ADDRESS, port);
  }

  /**
   * Serves {@code registry} on {@code port} of {@code bindAddress} (0: any free port).
   *
   * @throws io.javalin.util.JavalinBindException if the port is taken
   */
  static DemoRegistryServer start(MockSchemaRegistryClient registry, String bindAddress, int port) {
    Javalin app = Javalin.create(c -> c.showJavalinBanner = false);
    DemoRegistryServer server = new DemoRegistryServer(registry, app, bindAddress);
    app.post("/subjects/{subject}/versions", server::register);
    app.post("/subjects/{subject}", server::lookup);
    app.get("/subjects", ctx -> reply(ctx, JSON.valueToTree(registry.getAllSubjects())));
    app.get(
        "/subjects/{subject}/versions",
        ctx -> reply(ctx, JSON.valueToTree(registry.getAllVersions(ctx.pathParam("subject")))));
    app.get("/subjects/{subject}/versions/{version}", server::version);
    app.get("/schemas/ids/{id}", server::schemaById);
    app.get("/schemas/guids/{guid}", server::schemaByGuid);
    app.post("/compatibility/subjects/{subject}/versions/latest", server::compatibility);
    app.get("/config", ctx -> server.level(ctx, null));
    app.get("/config/{subject}", ctx -> server.level(ctx, ctx.pathParam("subject")));
    app.exception(
        RestClientException.class,
        (e, ctx) -> error(ctx, e.status(), e.errorCode(), e.getMessage()));
    app.exception(
        SchemaParseException.class,
        (e, ctx) -> error(ctx, 422, 42201, "Invalid schema: " + e.getMessage()));
    app.exception(
        IOException.class,
        (e, ctx) -> error(ctx, 422, 42201, "Unreadable request: " + e.getMessage()));
    app.start(bindAddress, port);
    return server;
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8085}. */
  public String url() {
    return "http://" + Demo.urlHost(bindAddress, "127.0.0.1") + ":" + app.port();
  }

  private void register(Context ctx) throws Exception {
    int id = registry.register(ctx.pathParam("subject"), schema(ctx));
    reply(ctx, JSON.createObjectNode().put("id", id));
  }

  private void lookup(Context ctx) throws Exception {
    String subject = ctx.pathParam("subject");
    Schema schema = schema(ctx);
    int id = registry.getId(subject, schema);
    int version = registry.getVersion(subject, schema);
    reply(
        ctx,
        JSON.createObjectNode()
            .put("subject", subject)
            .put("id", id)
            .put("version", version)
            .put("schema", schema.toString()));
  }

  private void version(Context ctx) throws Exception {
    String subject = ctx.pathParam("subject");
    String v = ctx.pathParam("version");
    SchemaMetadata m =
        v.equals("latest")
            ? registry.getLatestSchemaMetadata(subject)
            : registry.getSchemaMetadata(subject, Integer.parseInt(v));
    reply(
        ctx,
        JSON.createObjectNode()
            .put("subject", m.subject())
            .put("version", m.version())
            .put("id", m.id())
            .put("schema", m.schema()));
  }

  private void schemaById(Context ctx) throws Exception {
    int id = Integer.parseInt(ctx.pathParam("id"));
    Schema schema = registry.getSchemaBySubjectAndId(ctx.queryParam("subject"), id);
    reply(
        ctx,
        JSON.createObjectNode().put("schema", schema.toString()).put("guid", registry.getGuid(id)));
  }

  private void schemaByGuid(Context ctx) throws Exception {
    Schema schema = registry.getSchemaByGuid(ctx.pathParam("guid"));
    reply(ctx, JSON.createObjectNode().put("schema", schema.toString()));
  }

  private void compatibility(Context ctx) throws Exception {
    boolean ok = registry.testCompatibility(ctx.pathParam("subject"), schema(ctx));
    reply(ctx, JSON.createObjectNode().put("is_compatible", ok));
  }

  private void level(Context ctx, String subject) {
    reply(
        ctx,
        JSON.createObjectNode()
            .put("compatibilityLevel", registry.getCompatibility(subject).name()));
  }

  private static Schema schema(Context ctx) throws IOException {
    JsonNode body = JSON.readTree(ctx.body());
    String type = body.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new SchemaParseException("only AVRO schemas are served here, got " + type);
    }
    return new Schema.Parser().parse(body.path("schema").asText());
  }

  private static void reply(Context ctx, JsonNode body) {
    ctx.contentType(CONTENT_TYPE).result(body.toString());
  }

  private static void error(Context ctx, int status, int code, String message) {
    ObjectNode body = JSON.createObjectNode().put("error_code", code).put("message", message);
    ctx.status(status).contentType(CONTENT_TYPE).result(body.toString());
  }

  @Override
  public void close() {
    app.stop();
  }
}
