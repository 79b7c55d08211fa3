package io.shoplens.processor.app.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Times as ISO-8601 instants, offset date-times, and zone-less date-times or dates read as UTC: the
 * window bounds of {@code replay} and {@code evaluate --replay}.
 */
final class TimeConverter implements ITypeConverter<Instant> {
  @Override
  public Instant convert(String value) {
    String v = value.trim();
    try {
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException e) {
      throw new TypeConversionException(
          "expected an ISO-8601 time like 2025-01-31T12:00:00Z, 2025-01-31T13:00+01:00,"
              + " 2025-01-31T12:00 (UTC) or 2025-01-31, got '"
              + value
              + "'");
    }
  }
}
