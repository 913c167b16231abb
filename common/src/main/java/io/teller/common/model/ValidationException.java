package io.teller.common.model;

/**
 * Bad input for the registry's model: names the field at fault (a JSON path such as {@code
 * routes[0].pathPrefix}) and says what is wrong in one line. The REST API turns it into a {@code
 * 400 application/problem+json}; the event-bus API into a reply failure with code 400.
 */
public final class ValidationException extends RuntimeException {

  private final String field;

  public ValidationException(String field, String detail) {
    super(detail, null, false, false);
    this.field = field;
  }

  /** The JSON path of the field at fault, e.g. {@code port} or {@code routes[1].hosts[0]}. */
  public String field() {
    return field;
  }

  /** What is wrong with it. */
  public String detail() {
    return getMessage();
  }
}
