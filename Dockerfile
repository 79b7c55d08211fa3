# ShopLens on CPU. Build: docker build -t shoplens .
# Run:  docker run --rm -p 8080:8080 -v /models:/models:ro \
#         -e SHOPLENS_BOOTSTRAP_SERVERS=kafka:9092 -e SHOPLENS_SCHEMA_REGISTRY_URL=http://registry:8081 \
#         -e SHOPLENS_MODEL_PATH=/models/blip2-opt-2.7b shoplens
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -ntp -DskipTests -pl processor -am package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /app shoplens && mkdir -p /app /var/lib/shoplens \
    && chown shoplens /var/lib/shoplens
# The production jar: no Kafka broker and no demo (those are the demo module's shoplens-demo.jar).
COPY --from=build /src/processor/target/shoplens.jar /app/shoplens.jar
USER shoplens
WORKDIR /app
# Kafka Streams state (RocksDB) lives here; mount a volume to keep it across restarts.
ENV KAFKA_STATE_DIR=/var/lib/shoplens \
    JAVA_OPTS="-XX:MaxRAMPercentage=75"
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD ["sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/shoplens.jar \"$@\"", "shoplens"]
CMD ["run"]
