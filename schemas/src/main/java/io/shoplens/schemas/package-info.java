/** The ShopLens event contract: Avro schemas and the classes generated from them. */
package io.shoplens.schemas;
