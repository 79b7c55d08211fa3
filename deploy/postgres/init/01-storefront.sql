-- The storefront's catalog, as ShopLens's catalog connector expects it
-- (connectors/config/storefront-catalog-postgres-source.json), and the tables ShopLens's results
-- are upserted into.
CREATE SCHEMA IF NOT EXISTS storefront;

CREATE TABLE IF NOT EXISTS storefront.products (
  product_id         text        PRIMARY KEY,
  title              text        NOT NULL,
  category           text        NOT NULL,               -- e.g. women/tops/t-shirts
  attributes         jsonb       NOT NULL DEFAULT '{}',  -- {"color": "navy blue", ...}
  image_uri          text,                               -- the image columns are all set or all null
  image_sha256       text,
  image_content_type text,
  image_size_bytes   bigint,
  stock_quantity     integer,                            -- null when stock is not tracked
  in_stock           boolean     NOT NULL DEFAULT true,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT products_image_all_or_nothing CHECK (
    num_nulls(image_uri, image_sha256, image_content_type, image_size_bytes) IN (0, 4))
);

-- ShopLens's results, upserted by the JDBC sinks (connectors/config/shoplens-*-postgres-sink.json):
-- one row per question and per upload, replaced when a replay recomputes it. The columns are the
-- events' fields flattened with "_" (Flatten$Value), unquoted as the sink writes them (PostgreSQL
-- folds questionId to questionid); timestamps are UTC. Declared here rather than left to the
-- sink's schema evolution, which cannot create array columns whose fields default to [], nor add
-- required columns to an existing table. New optional fields are still added by the sink.
CREATE TABLE IF NOT EXISTS storefront.shoplens_answers (
  questionId                           text PRIMARY KEY,
  uploadId                             text NOT NULL,
  userId                               text NOT NULL,
  conversationId                       text,
  answer                               text NOT NULL,
  alternatives                         text[] NOT NULL DEFAULT '{}',
  finishReason                         text NOT NULL,
  tokenCounts_promptTokens             integer NOT NULL,
  tokenCounts_imageTokens              integer NOT NULL,
  tokenCounts_generatedTokens          integer NOT NULL,
  generationOptions_strategy           text,
  generationOptions_maxNewTokens       integer,
  generationOptions_minNewTokens       integer,
  generationOptions_numBeams           integer,
  generationOptions_lengthPenalty      double precision,
  generationOptions_earlyStopping      boolean,
  generationOptions_numReturnSequences integer,
  generationOptions_temperature        double precision,
  generationOptions_topK               integer,
  generationOptions_topP               double precision,
  generationOptions_seed               bigint,
  model_modelId                        text NOT NULL,
  model_modelVersion                   text NOT NULL,
  lineage_sourceTopic                  text NOT NULL,
  lineage_sourcePartition              integer NOT NULL,
  lineage_sourceOffset                 bigint NOT NULL,
  lineage_replayRunId                  text,
  timings_queueMs                      bigint NOT NULL,
  timings_preprocessMs                 bigint NOT NULL,
  timings_visionMs                     bigint NOT NULL,
  timings_visionCacheHit               boolean NOT NULL,
  timings_prefillMs                    bigint NOT NULL,
  timings_decodeMs                     bigint NOT NULL,
  answeredAt                           timestamp NOT NULL
);

CREATE TABLE IF NOT EXISTS storefront.shoplens_captions (
  uploadId                    text PRIMARY KEY,
  userId                      text NOT NULL,
  caption                     text NOT NULL,
  alternativeCaptions         text[] NOT NULL DEFAULT '{}',
  finishReason                text NOT NULL,
  tokenCounts_promptTokens    integer NOT NULL,
  tokenCounts_imageTokens     integer NOT NULL,
  tokenCounts_generatedTokens integer NOT NULL,
  model_modelId               text NOT NULL,
  model_modelVersion          text NOT NULL,
  lineage_sourceTopic         text NOT NULL,
  lineage_sourcePartition     integer NOT NULL,
  lineage_sourceOffset        bigint NOT NULL,
  lineage_replayRunId         text,
  timings_queueMs             bigint NOT NULL,
  timings_preprocessMs        bigint NOT NULL,
  timings_visionMs            bigint NOT NULL,
  timings_visionCacheHit      boolean NOT NULL,
  timings_prefillMs           bigint NOT NULL,
  timings_decodeMs            bigint NOT NULL,
  captionedAt                 timestamp NOT NULL
);
